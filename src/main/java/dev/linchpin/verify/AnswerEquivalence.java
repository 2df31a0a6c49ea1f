package dev.linchpin.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether two normalised answers are the same, after the numeric part of Qwen2.5-Math's
 * {@code math_equal} ({@code evaluation/grader.py}), without its sympy fallback.
 *
 * <p>Rules, in order: equal strings ignoring case ({@link EquivalenceRule#EXACT_STRING}); equal exact
 * values of integers/decimals ({@link EquivalenceRule#NUMERIC}) or where one side is a {@code \frac}
 * ({@link EquivalenceRule#FRACTION}); a percentage ({@link EquivalenceRule#PERCENT}); tuples element by
 * element ({@link EquivalenceRule#TUPLE}).
 *
 * <p>Decisions that differ from Qwen's grader:
 * <ul>
 *   <li>Values are compared exactly (rationals), not with {@code isclose(rel_tol=1e-4)}: that tolerance
 *       makes 10000 and 10001 equal, and GSM8K/MATH answers are exact. So {@code 0.333} is not
 *       {@code \frac{1}{3}}.</li>
 *   <li>Percentages: Qwen's {@code is_numerical_equal(include_percentage=True)} accepts the prediction
 *       if it equals the reference, reference/100 or reference*100, in both directions and whether or
 *       not anything was written as a percentage, so a GSM8K prediction "0.5" passes for gold "50".
 *       We accept value/100 only for the side that was written with a percent sign
 *       ({@code 50\%} = {@code 0.5} = {@code 50}), never for two bare numbers.</li>
 *   <li>Tuples and intervals must use the same brackets ({@code (1,2)} is not {@code [1,2]}); symbolic
 *       answers ({@code \sqrt{2}}, {@code 2\pi}, matrices) are compared as normalised strings only.</li>
 * </ul>
 */
public final class AnswerEquivalence {
    private AnswerEquivalence() {
    }

    /** The rule under which {@code prediction} equals {@code gold}, or {@link EquivalenceRule#NONE}. */
    public static EquivalenceRule compare(NormalizedAnswer prediction, NormalizedAnswer gold) {
        String p = prediction.text(), g = gold.text();
        if (p.isEmpty() || g.isEmpty()) {
            return EquivalenceRule.NONE;
        }
        if (p.equalsIgnoreCase(g)) {
            return EquivalenceRule.EXACT_STRING;
        }
        Rational rp = Rational.parse(p), rg = Rational.parse(g);
        if (rp != null && rg != null) {
            if (rp.equals(rg)) {
                return p.contains("\\frac") || g.contains("\\frac") ? EquivalenceRule.FRACTION : EquivalenceRule.NUMERIC;
            }
            if (prediction.percent() && !gold.percent() && rp.percentOf().equals(rg)) {
                return EquivalenceRule.PERCENT;
            }
            if (gold.percent() && !prediction.percent() && rg.percentOf().equals(rp)) {
                return EquivalenceRule.PERCENT;
            }
            return EquivalenceRule.NONE;
        }
        List<String> tp = tupleElements(p), tg = tupleElements(g);
        if (tp != null && tg != null && tp.size() == tg.size() && p.charAt(0) == g.charAt(0)
                && p.charAt(p.length() - 1) == g.charAt(g.length() - 1)) {
            for (int i = 0; i < tp.size(); i++) {
                EquivalenceRule r = compare(new NormalizedAnswer(tp.get(i), false), new NormalizedAnswer(tg.get(i), false));
                if (r == EquivalenceRule.NONE) {
                    return EquivalenceRule.NONE;
                }
            }
            return EquivalenceRule.TUPLE;
        }
        return EquivalenceRule.NONE;
    }

    /** Top-level comma-separated elements of "(a,b)" or "[a,b)" etc., or null when not such a tuple. */
    static List<String> tupleElements(String s) {
        if (s.length() < 3 || "([".indexOf(s.charAt(0)) < 0 || ")]".indexOf(s.charAt(s.length() - 1)) < 0) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        int depth = 0, start = 1;
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '{' || c == '(' || c == '[') {
                depth++;
            } else if (c == '}' || c == ')' || c == ']') {
                if (--depth < 0) {
                    return null; // "(1)+(2)" is not one tuple
                }
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) {
            return null;
        }
        parts.add(s.substring(start, s.length() - 1));
        return parts.size() >= 2 ? parts : null;
    }
}
