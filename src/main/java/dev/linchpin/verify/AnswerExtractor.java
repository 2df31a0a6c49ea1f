package dev.linchpin.verify;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the final answer in a model response, and the gold answer in GSM8K / MATH reference solutions.
 *
 * <p>Rules are tried in this order, the first that finds something wins:
 * <ol>
 *   <li>{@link ExtractionRule#GSM8K_STRICT}: the first {@code #### N}. Same pattern as
 *       lm-evaluation-harness {@code lm_eval/tasks/gsm8k/gsm8k.yaml}, filter "strict-match":
 *       {@code "#### (\-?[0-9\.\,]+)"} with {@code take_first} (the first marker, because a base model
 *       often keeps generating further few-shot problems after its answer). A trailing '.' or ',' the
 *       pattern swallows ("#### 8.") is dropped.</li>
 *   <li>{@link ExtractionRule#BOXED}: the last {@code \boxed{...}} or {@code \fbox{...}}, with nested
 *       braces matched, as Qwen2.5-Math {@code evaluation/parser.py} {@code extract_answer} (brace stack
 *       after the last "boxed") and Hendrycks' {@code last_boxed_only_string}; {@code \boxed 5} (no
 *       braces) takes the text up to the next '$' like Qwen's parser. Unbalanced braces find nothing.</li>
 *   <li>{@link ExtractionRule#ANSWER_IS}: the text after the last "answer is" (case-insensitive, so also
 *       "The final answer is"), as Qwen's {@code "he answer is"} branch, but cut at the end of the line
 *       and of the sentence, and unwrapped from {@code $...$}.</li>
 *   <li>{@link ExtractionRule#FLEXIBLE_LAST_NUMBER}: the last number, as lm-evaluation-harness
 *       "flexible-extract" ({@code "(-?[$0-9.,]{2,})|(-?[0-9]+)"}, {@code group_select: -1}, then
 *       ignoring ',' '$' and a final '.'). Unlike that pattern ours requires a digit, so an ellipsis
 *       "..." is not a number, and reads one well-formed number, so of "1.2.3" it takes the last, ".3"
 *       (lm-eval: "1.2.3"). A leading '.' belongs to the number: ".5" (checked against lm-eval's own filters
 *       on a few hundred responses by VerifierVsLmEvalTest).</li>
 * </ol>
 * A verifier for a strict benchmark setting can switch rules off ({@link #AnswerExtractor(Set)}).
 */
public final class AnswerExtractor {
    private static final Pattern GSM8K_STRICT = Pattern.compile("#### (-?[0-9.,]+)");
    private static final Pattern NUMBER = Pattern.compile("-?\\$?(?:\\d[\\d,]*(?:\\.\\d+)?|\\.\\d+)");
    private static final Pattern ANSWER_IS = Pattern.compile("answer is");

    private final Set<ExtractionRule> enabled;

    /** All rules enabled. */
    public AnswerExtractor() {
        this(EnumSet.of(ExtractionRule.GSM8K_STRICT, ExtractionRule.BOXED, ExtractionRule.ANSWER_IS,
                ExtractionRule.FLEXIBLE_LAST_NUMBER));
    }

    /** Only the given rules (in the fixed order above); {@link ExtractionRule#NONE} is ignored. */
    public AnswerExtractor(Set<ExtractionRule> enabledRules) {
        Objects.requireNonNull(enabledRules, "enabledRules");
        this.enabled = enabledRules.isEmpty() ? EnumSet.noneOf(ExtractionRule.class) : EnumSet.copyOf(enabledRules);
    }

    /** The answer in {@code response}, or {@link Extraction#NONE}. */
    public Extraction extract(String response) {
        if (response == null || response.isBlank()) {
            return Extraction.NONE;
        }
        String found;
        if (enabled.contains(ExtractionRule.GSM8K_STRICT) && (found = gsm8kStrict(response)) != null) {
            return new Extraction(found, ExtractionRule.GSM8K_STRICT);
        }
        if (enabled.contains(ExtractionRule.BOXED) && (found = lastBoxed(response)) != null && !found.isBlank()) {
            return new Extraction(found.strip(), ExtractionRule.BOXED);
        }
        if (enabled.contains(ExtractionRule.ANSWER_IS) && (found = answerIs(response)) != null) {
            return new Extraction(found, ExtractionRule.ANSWER_IS);
        }
        if (enabled.contains(ExtractionRule.FLEXIBLE_LAST_NUMBER) && (found = lastNumber(response)) != null) {
            return new Extraction(found, ExtractionRule.FLEXIBLE_LAST_NUMBER);
        }
        return Extraction.NONE;
    }

    /**
     * The gold answer of a GSM8K {@code answer} field: the text after the last {@code ####}, trimmed
     * (e.g. "1,234"; normalisation removes the separator later).
     *
     * @throws IllegalArgumentException if there is no {@code ####} or nothing after it
     */
    public static String goldFromGsm8kAnswer(String answer) {
        Objects.requireNonNull(answer, "answer");
        int at = answer.lastIndexOf("####");
        if (at < 0) {
            throw new IllegalArgumentException("GSM8K answer has no '####' line: " + abbreviate(answer));
        }
        String gold = answer.substring(at + 4).strip();
        if (gold.isEmpty()) {
            throw new IllegalArgumentException("GSM8K answer has nothing after '####': " + abbreviate(answer));
        }
        return gold;
    }

    /**
     * The gold answer of a MATH {@code solution} field: the content of its last {@code \boxed{}}
     * (or {@code \fbox{}}), nested braces kept.
     *
     * @throws IllegalArgumentException if there is no complete {@code \boxed{...}}
     */
    public static String goldFromMathSolution(String solution) {
        Objects.requireNonNull(solution, "solution");
        String boxed = lastBoxed(solution);
        if (boxed == null || boxed.isBlank()) {
            throw new IllegalArgumentException("MATH solution has no complete \\boxed{...}: " + abbreviate(solution));
        }
        return boxed.strip();
    }

    /**
     * The content of the last {@code \boxed{...}} / {@code \fbox{...}} in {@code text} with nested braces
     * matched, the token after {@code \boxed } when written without braces, or null.
     */
    public static String lastBoxed(String text) {
        int at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
        if (at < 0) {
            return null;
        }
        int i = at + (text.startsWith("\\boxed", at) ? "\\boxed".length() : "\\fbox".length());
        if (i < text.length() && text.charAt(i) == '{') {
            int depth = 0;
            for (int j = i; j < text.length(); j++) {
                char c = text.charAt(j);
                if (c == '{') {
                    depth++;
                } else if (c == '}' && --depth == 0) {
                    return text.substring(i + 1, j);
                }
            }
            return null; // unbalanced: the response was cut off inside the box
        }
        if (i < text.length() && text.charAt(i) == ' ') {
            // "\boxed 5$": Qwen's parser takes everything up to the next '$'.
            String rest = text.substring(i + 1);
            int dollar = rest.indexOf('$');
            String token = (dollar >= 0 ? rest.substring(0, dollar) : rest).strip();
            int space = token.indexOf(' ');
            return space >= 0 ? token.substring(0, space) : token;
        }
        return null;
    }

    private static String gsm8kStrict(String response) {
        Matcher m = GSM8K_STRICT.matcher(response);
        while (m.find()) {
            String s = trimTrailing(m.group(1), ".,");
            if (s.chars().anyMatch(Character::isDigit)) {
                return s;
            }
        }
        return null;
    }

    private static String answerIs(String response) {
        String lower = response.toLowerCase(Locale.ROOT);
        Matcher m = ANSWER_IS.matcher(lower);
        int last = -1;
        while (m.find()) {
            last = m.end();
        }
        if (last < 0) {
            return null;
        }
        String rest = response.substring(last).stripLeading();
        if (rest.startsWith(":")) {
            rest = rest.substring(1).stripLeading();
        }
        int nl = rest.indexOf('\n');
        if (nl >= 0) {
            rest = rest.substring(0, nl);
        }
        if (rest.startsWith("$")) {
            // "The answer is $\frac{1}{2}$." -> the inline math
            int close = rest.indexOf('$', 1);
            if (close > 0) {
                rest = rest.substring(1, close);
            }
        } else {
            int sentenceEnd = rest.indexOf(". ");
            if (sentenceEnd >= 0) {
                rest = rest.substring(0, sentenceEnd);
            }
        }
        rest = trimTrailing(rest.strip(), ".").strip();
        return rest.isEmpty() ? null : rest;
    }

    private static String lastNumber(String response) {
        Matcher m = NUMBER.matcher(response);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        if (last == null) {
            return null;
        }
        return trimTrailing(last.replace("$", ""), ",");
    }

    private static String trimTrailing(String s, String chars) {
        int end = s.length();
        while (end > 0 && chars.indexOf(s.charAt(end - 1)) >= 0) {
            end--;
        }
        return s.substring(0, end);
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 80 ? '"' + one + '"' : '"' + one.substring(0, 77) + "...\"";
    }
}
