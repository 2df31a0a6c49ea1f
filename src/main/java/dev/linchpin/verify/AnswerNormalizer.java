package dev.linchpin.verify;

import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Normalises an answer string for comparison, following Qwen2.5-Math's {@code strip_string}
 * ({@code evaluation/parser.py}, itself from Hendrycks' MATH {@code math_equivalence}), step by step
 * and in the same order. Deviations, each for a reason:
 * <ul>
 *   <li>Unit words: Qwen removes ~150 MathQA unit words including single letters ("a", "t", "s", "h",
 *       "c", "m", "d", "o"), which turns variable answers such as {@code a} or {@code 3m} into garbage;
 *       we keep a short list of multi-letter units common in GSM8K/MATH answers.</li>
 *   <li>Thousands separators ({@code 1,000}, MATH's {@code 1{,}000} and {@code 1,\!000}) are removed
 *       here; Qwen only strips commas inside its numeric comparison ({@code parse_digits}).</li>
 *   <li>The percent sign is recorded in {@link NormalizedAnswer#percent()} before it is removed.</li>
 *   <li>Qwen's "strip enclosing braces if alnum" test can never pass ('{' is not alphanumeric); we
 *       unwrap {@code {5}} as intended. Qwen's {@code replace("and", "")} (which also mangles words
 *       containing "and") and word-to-number conversion are left out.</li>
 *   <li>A number followed only by words ({@code 42 apples}) keeps the number, as Qwen's
 *       {@code extract_theoremqa_answer} does with {@code -?[\d\.]+\s\D+$}.</li>
 *   <li>The Unicode minus sign is read as '-'.</li>
 * </ul>
 */
public final class AnswerNormalizer {
    private AnswerNormalizer() {
    }

    /** Units removed when they stand alone as words (plural 's' optional). */
    private static final List<String> UNIT_WORDS = List.of(
            "dollars?", "cents?", "euros?", "pounds?", "units?", "square", "sq", "cubic",
            "cm", "mm", "km", "meters?", "metres?", "inch(?:es)?", "feet", "foot", "ft", "yards?", "miles?",
            "kg", "grams?", "gm", "lbs?", "liters?", "litres?", "gallons?", "ml",
            "seconds?", "sec", "minutes?", "mins?", "hours?", "hrs?", "days?", "weeks?", "months?", "years?",
            "degrees?", "deg", "mph", "kmph", "kmh", "percent");
    private static final Pattern UNITS = Pattern.compile(
            "(^|\\W)(?:" + String.join("|", UNIT_WORDS) + ")(?=$|\\W)", Pattern.CASE_INSENSITIVE);
    private static final Pattern PERCENT_WORD = Pattern.compile("(^|\\W)percent($|\\W)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ARRAY_BEGIN = Pattern.compile("\\\\begin\\{array\\}\\{.*?\\}");
    private static final Pattern TRAILING_TEXT = Pattern.compile("\\\\text\\{.*?\\}$");
    private static final Pattern TEXT = Pattern.compile("\\\\(?:text|textbf|mathrm)\\{(.*?)\\}");
    private static final Pattern MBOX = Pattern.compile("\\\\mbox\\{.*?\\}");
    private static final Pattern THOUSANDS = Pattern.compile("(?<=\\d),(?=\\d{3}(?:\\D|$))");
    // Anchored at the start of a digit run and possessive: the plain "(\\d+)\\.0*" retries from every
    // digit of a long run and is quadratic (a 100k-digit answer took minutes). Same matches otherwise.
    private static final Pattern TRAILING_ZEROS_MID = Pattern.compile("(?<!\\d)(\\d++)\\.0*([^\\d])");
    private static final Pattern TRAILING_ZEROS_END = Pattern.compile("(?<!\\d)(\\d++)\\.0*$");
    private static final Pattern NUMBER_THEN_WORDS = Pattern.compile("^(-?[\\d.]+)\\s+[A-Za-z][A-Za-z ]*$");
    private static final Pattern SQRT = Pattern.compile("\\\\sqrt(\\w+)");
    private static final Pattern INT_SLASH_INT = Pattern.compile("^(-?\\d+)/(\\d+)$");
    private static final Pattern ALNUM = Pattern.compile("^[A-Za-z0-9]+$");

    /** Normalises {@code answer} (null is treated as empty). */
    public static NormalizedAnswer normalize(String answer) {
        String s = Objects.toString(answer, "").strip();
        // recorded first: the unit and \text{} steps below may remove "percent"
        boolean percent = s.contains("%") || PERCENT_WORD.matcher(s).find();
        s = s.replace("\n", "").replace('\u2212', '-');
        s = stripTrailing(s, '.');
        s = s.replace("\\!", "");
        s = s.replace("{,}", ",");

        // matrices
        s = ARRAY_BEGIN.matcher(s).replaceAll(Matcher.quoteReplacement("\\begin{pmatrix}"));
        s = s.replace("\\end{array}", "\\end{pmatrix}").replace("bmatrix", "pmatrix");

        s = s.replace("tfrac", "frac").replace("dfrac", "frac");
        s = s.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge");
        s = s.replace("\\left", "").replace("\\right", "");
        s = s.replace("\\{", "{").replace("\\}", "}");

        // a trailing \text{...} is a unit ("5\text{ cm}") unless it is all there is
        String withoutUnit = TRAILING_TEXT.matcher(s).replaceAll("").strip();
        if (!withoutUnit.isEmpty() && !withoutUnit.equals(s)) {
            s = withoutUnit;
        }

        for (int pass = 0; pass < 2; pass++) {
            String stripped = UNITS.matcher(s).replaceAll("$1").strip();
            if (!stripped.isEmpty()) {
                s = stripped;
            }
        }

        s = s.replace("^{\\circ}", "").replace("^\\circ", "");
        s = s.replace("\\$", "").replace("$", "");
        s = s.replace("\\(", "").replace("\\)", "");

        s = TEXT.matcher(s).replaceAll("$1");
        for (String key : List.of("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to")) {
            s = s.replace(key, "");
        }
        s = s.replace("\\emptyset", "{}");
        s = s.replace("(-\\infty,\\infty)", "\\mathbb{R}");

        s = s.replace("\\%", "").replace("%", "");

        s = s.replace(" .", " 0.").replace("{.", "{0.");

        s = s.replace("infinity", "\\infty");
        if (!s.contains("\\infty")) {
            s = s.replace("inf", "\\infty");
        }
        s = s.replace("\\mathbf", "");
        s = MBOX.matcher(s).replaceAll("");

        s = THOUSANDS.matcher(s).replaceAll("");
        Matcher words = NUMBER_THEN_WORDS.matcher(s.strip());
        if (words.matches()) {
            s = words.group(1);
        }

        if (s.contains("j") && !s.contains("i")) {
            s = s.replace("j", "i");
        }
        s = TRAILING_ZEROS_MID.matcher(s).replaceAll("$1$2");
        s = TRAILING_ZEROS_END.matcher(s).replaceAll("$1");

        s = s.strip();
        if (s.isEmpty()) {
            return new NormalizedAnswer(s, percent);
        }
        if (s.charAt(0) == '.') {
            s = "0" + s;
        }
        // "k = 5" -> "5" when the left side is a short name
        String[] eq = s.split("=", -1);
        if (eq.length == 2 && eq[0].strip().length() <= 2) {
            s = eq[1];
        }

        s = SQRT.matcher(s).replaceAll("\\\\sqrt{$1}");
        s = s.replace(" ", "");
        s = unwrapAlnum(s);
        s = fixFracs(s);
        s = fixSlash(s);
        return new NormalizedAnswer(s, percent);
    }

    private static String unwrapAlnum(String s) {
        if (s.length() >= 3) {
            char a = s.charAt(0), b = s.charAt(s.length() - 1);
            boolean wrapped = (a == '{' && b == '}') || (a == '(' && b == ')') || (a == '[' && b == ']');
            if (wrapped && ALNUM.matcher(s.substring(1, s.length() - 1)).matches()) {
                return s.substring(1, s.length() - 1);
            }
        }
        return s;
    }

    /** Qwen's {@code _fix_fracs}: {@code \frac12} -> {@code \frac{1}{2}}, {@code \frac1{72}} -> {@code \frac{1}{72}}. */
    static String fixFracs(String s) {
        String[] parts = s.split("\\\\frac", -1);
        StringBuilder out = new StringBuilder(parts[0]);
        for (int k = 1; k < parts.length; k++) {
            String sub = parts[k];
            out.append("\\frac");
            if (!sub.isEmpty() && sub.charAt(0) == '{') {
                out.append(sub);
            } else {
                if (sub.length() < 2) {
                    return s;
                }
                char a = sub.charAt(0), b = sub.charAt(1);
                if (b != '{') {
                    out.append('{').append(a).append("}{").append(b).append('}').append(sub.substring(2));
                } else {
                    out.append('{').append(a).append('}').append(sub.substring(1));
                }
            }
        }
        return out.toString();
    }

    /** Qwen's {@code _fix_a_slash_b}: {@code 3/4} -> {@code \frac{3}{4}} for plain integers. */
    static String fixSlash(String s) {
        Matcher m = INT_SLASH_INT.matcher(s);
        if (m.matches()) {
            return "\\frac{" + m.group(1) + "}{" + m.group(2) + "}";
        }
        return s;
    }

    private static String stripTrailing(String s, char c) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == c) {
            end--;
        }
        return s.substring(0, end);
    }
}
