package dev.linchpin.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Source rewrites for the Jinja constructs of real chat templates that jinjava cannot parse, or parses
 * with other precedence than Jinja2:
 * <ul>
 *   <li>reverse slicing {@code name[::-1]} (Qwen3: {@code for message in messages[::-1]}) becomes
 *       {@code (name|reverse)}; only a dotted name before the slice is recognised;
 *   <li>keyword arguments of {@code namespace(...)} with an operator in the value (Qwen3:
 *       {@code last_query_index=messages|length - 1}), which jinjava parses as {@code (k=v|f) - 1};
 *       each value is parenthesised: {@code last_query_index=(messages|length - 1)};
 *   <li>{@code not name is test} (DeepSeek-V3: {@code if not add_generation_prompt is defined}): Jinja2 binds
 *       the test first, {@code not (name is test)}; jinjava applies {@code not} to the name first, and
 *       {@code (not name) is defined} always holds, so DeepSeek-V3's template reset
 *       {@code add_generation_prompt} to false and never wrote the generation prompt. The test is parenthesised:
 *       {@code not (name is test)}, {@code not (name is not test)}; a dotted or subscripted name is recognised,
 *       a test with an argument is not.
 * </ul>
 * Plain forward slices ({@code messages[1:]}) parse in jinjava and are left alone.
 */
final class TemplatePreprocessor {
    private static final Pattern REVERSE_SLICE = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)\\[\\s*::\\s*-1\\s*\\]");
    private static final Pattern NAMESPACE_CALL = Pattern.compile("\\bnamespace\\s*\\(");
    private static final Pattern NOT_IS_TEST = Pattern.compile(
            "\\bnot\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\[\\s*(?:'[^']*'|\"[^\"]*\"|[0-9]+)\\s*\\])*)"
            + "\\s+is\\s+((?:not\\s+)?[A-Za-z_][A-Za-z0-9_]*)\\b(?!\\s*\\()");
    private static final Pattern KEYWORD = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*=(?!=)(.*)$", Pattern.DOTALL);

    private TemplatePreprocessor() {}

    static String rewrite(String source) {
        String s = REVERSE_SLICE.matcher(source).replaceAll("($1|reverse)");
        s = NOT_IS_TEST.matcher(s).replaceAll("not ($1 is $2)");
        return parenthesiseNamespaceArguments(s);
    }

    private static String parenthesiseNamespaceArguments(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = NAMESPACE_CALL.matcher(s);
        int copied = 0;
        while (m.find(copied)) {
            int open = m.end() - 1;
            int close = matchingParen(s, open);
            if (close < 0) {
                break; // unbalanced: leave it for jinjava to report
            }
            out.append(s, copied, open + 1);
            List<String> args = splitTopLevel(s.substring(open + 1, close));
            for (int i = 0; i < args.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                Matcher kw = KEYWORD.matcher(args.get(i));
                out.append(kw.matches() ? kw.group(1) + "=(" + kw.group(2).strip() + ")" : args.get(i));
            }
            out.append(')');
            copied = close + 1;
        }
        out.append(s.substring(copied));
        return out.toString();
    }

    /** Index of the parenthesis closing the one at {@code open}, skipping string literals; -1 if none. */
    private static int matchingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = endOfString(s, i);
                if (i < 0) {
                    return -1;
                }
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
                if (depth == 0) {
                    return c == ')' ? i : -1;
                }
            }
        }
        return -1;
    }

    private static int endOfString(String s, int quote) {
        char q = s.charAt(quote);
        for (int i = quote + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == q) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> splitTopLevel(String args) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < args.length(); i++) {
            char c = args.charAt(i);
            if (c == '\'' || c == '"') {
                int end = endOfString(args, i);
                i = end < 0 ? args.length() : end;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(args.substring(start, i));
                start = i + 1;
            }
        }
        if (!args.isBlank()) {
            parts.add(args.substring(start));
        }
        return parts;
    }
}
