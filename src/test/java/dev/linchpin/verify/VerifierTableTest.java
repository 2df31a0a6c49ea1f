package dev.linchpin.verify;

import static dev.linchpin.verify.EquivalenceRule.EXACT_STRING;
import static dev.linchpin.verify.EquivalenceRule.FRACTION;
import static dev.linchpin.verify.EquivalenceRule.NUMERIC;
import static dev.linchpin.verify.EquivalenceRule.PERCENT;
import static dev.linchpin.verify.EquivalenceRule.TUPLE;
import static dev.linchpin.verify.ExtractionRule.ANSWER_IS;
import static dev.linchpin.verify.ExtractionRule.BOXED;
import static dev.linchpin.verify.ExtractionRule.FLEXIBLE_LAST_NUMBER;
import static dev.linchpin.verify.ExtractionRule.GSM8K_STRICT;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The verifier on responses written like real GSM8K solutions (calculator annotations, {@code ####})
 * and MATH / Qwen-style solutions ({@code \boxed{}}), each with a hand-written expectation: correct or
 * not, which extraction rule must fire, which equivalence rule must match. Expectations come from the
 * documented rules (lm-eval gsm8k filters, Qwen2.5-Math strip_string/math_equal and our stated
 * deviations), not from running the code.
 */
class VerifierTableTest {
    private static final EquivalenceRule NO = EquivalenceRule.NONE;
    private static final ExtractionRule NOTHING = ExtractionRule.NONE;

    private static final List<Arguments> CASES = new ArrayList<>();

    private static void row(String response, String gold, boolean correct, ExtractionRule extraction,
                            EquivalenceRule equivalence) {
        CASES.add(Arguments.of(response, gold, correct, extraction, equivalence));
    }

    static {
        // --- GSM8K-style responses --------------------------------------------------------------
        row("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
                "72", true, GSM8K_STRICT, EXACT_STRING);
        row("Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10",
                "10", true, GSM8K_STRICT, EXACT_STRING);
        row("The total is 1000 + 234 = 1234.\n#### 1,234", "1234", true, GSM8K_STRICT, EXACT_STRING);
        row("#### 1234", "1,234", true, GSM8K_STRICT, EXACT_STRING);
        row("He is left with 2 - 5 = -3 dollars.\n#### -3", "-3", true, GSM8K_STRICT, EXACT_STRING);
        row("#### 3.0", "3", true, GSM8K_STRICT, EXACT_STRING);
        row("#### 3.50", "3.5", true, GSM8K_STRICT, NUMERIC);
        row("#### 72\n\nQuestion: Tom has 5 pens. How many pens?\nAnswer: #### 5", "72", true, GSM8K_STRICT, EXACT_STRING);
        row("So she has 8 apples.\n#### 8.", "8", true, GSM8K_STRICT, EXACT_STRING);
        row("Tom has 3 + 5 = 8 apples.\n#### 8", "9", false, GSM8K_STRICT, NO);
        row("#### 71", "72", false, GSM8K_STRICT, NO);
        row("#### 100", "100.00", true, GSM8K_STRICT, EXACT_STRING);
        row("#### 0", "0", true, GSM8K_STRICT, EXACT_STRING);
        row("#### 5", "5.0", true, GSM8K_STRICT, EXACT_STRING);
        row("#### $18", "18", true, FLEXIBLE_LAST_NUMBER, EXACT_STRING); // lm-eval's strict pattern has no '$'
        row("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.",
                "18", true, FLEXIBLE_LAST_NUMBER, EXACT_STRING);
        row("She has 5 apples left.", "5", true, FLEXIBLE_LAST_NUMBER, EXACT_STRING);
        row("He pays $1,000 in total.", "1000", true, FLEXIBLE_LAST_NUMBER, EXACT_STRING);
        row("The total is 3 + 4 = 7 dollars.", "7", true, FLEXIBLE_LAST_NUMBER, EXACT_STRING);
        row("It costs 0.5 dollars", "0.50", true, FLEXIBLE_LAST_NUMBER, NUMERIC);
        row("She runs 2.5 miles.", "\\frac{5}{2}", true, FLEXIBLE_LAST_NUMBER, FRACTION);
        row("He ends with 12 marbles, 3 more than Sam.", "12", false, FLEXIBLE_LAST_NUMBER, NO);
        row("Wait... let me think...", "5", false, NOTHING, NO);
        row("I don't know.", "5", false, NOTHING, NO);
        row("", "5", false, NOTHING, NO);
        row("The answer is 18.", "18", true, ANSWER_IS, EXACT_STRING);
        row("So the answer is $18.", "18", true, ANSWER_IS, EXACT_STRING);
        row("The answer is -3.", "-3", true, ANSWER_IS, EXACT_STRING);
        row("It gets colder by 5 degrees. The answer is \u22123", "-3", true, ANSWER_IS, EXACT_STRING);
        row("The answer is 12 apples.", "12", true, ANSWER_IS, EXACT_STRING);
        row("The answer is 1,234,567.", "1234567", true, ANSWER_IS, EXACT_STRING);
        row("The answer is 17. Next, let us check: 3 + 4 = 7.", "17", true, ANSWER_IS, EXACT_STRING);
        row("The answer is: $\\frac{1}{3}$", "\\frac{1}{3}", true, ANSWER_IS, EXACT_STRING);
        row("The answer is 40.", "42", false, ANSWER_IS, NO);

        // --- MATH-style responses ----------------------------------------------------------------
        row("Thus $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", true, BOXED, EXACT_STRING);
        row("$\\boxed{0.5}$", "\\frac{1}{2}", true, BOXED, FRACTION);
        row("\\boxed{\\dfrac{1}{2}}", "\\frac{1}{2}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\tfrac{3}{4}}", "0.75", true, BOXED, FRACTION);
        row("\\boxed{\\frac12}", "\\frac{1}{2}", true, BOXED, EXACT_STRING);
        row("\\boxed{1/2}", "\\frac{1}{2}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}", true, BOXED, FRACTION);
        row("\\boxed{50\\%}", "0.5", true, BOXED, PERCENT);
        row("\\boxed{0.5}", "50\\%", true, BOXED, PERCENT);
        row("\\boxed{50}", "50\\%", true, BOXED, EXACT_STRING);
        row("\\boxed{0.5}", "50", false, BOXED, NO); // no percent sign anywhere: not a percentage
        row("\\boxed{1.5\\%}", "0.015", true, BOXED, PERCENT);
        row("\\boxed{150\\%}", "1.5", true, BOXED, PERCENT);
        row("\\boxed{10\\%}", "10", true, BOXED, EXACT_STRING);
        row("\\boxed{25 percent}", "0.25", true, BOXED, PERCENT);
        row("\\boxed{50\\text{ percent}}", "0.5", true, BOXED, PERCENT);
        row("\\boxed{5\\text{ cm}}", "5", true, BOXED, EXACT_STRING);
        row("\\boxed{5 \\text{ inches}}", "5", true, BOXED, EXACT_STRING);
        row("\\boxed{12 \\mbox{ cm}^2}", "12", false, BOXED, NO); // mbox goes, the "^2" stays
        row("\\boxed{\\$1,000}", "1000", true, BOXED, EXACT_STRING);
        row("\\boxed{\\$ 5.00}", "5", true, BOXED, EXACT_STRING);
        row("\\boxed{1,\\!000}", "1000", true, BOXED, EXACT_STRING);
        row("\\boxed{10{,}000}", "10000", true, BOXED, EXACT_STRING);
        row("\\boxed{\\left( 3, 4 \\right)}", "(3,4)", true, BOXED, EXACT_STRING);
        row("\\boxed{(3, 4)}", "(4,3)", false, BOXED, NO);
        row("\\boxed{(0.5, 2)}", "\\left(\\frac{1}{2}, 2\\right)", true, BOXED, TUPLE);
        row("\\boxed{[1, 2]}", "(1,2)", false, BOXED, NO);
        row("\\boxed{\\{1, 2\\}}", "\\{1,2\\}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}", true, BOXED, EXACT_STRING);
        row("The final answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$. I hope it is correct.", "\\frac{\\sqrt3}{2}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\sqrt2}", "\\sqrt{2}", true, BOXED, EXACT_STRING);
        row("\\boxed{x^2 + 1}", "x^2+1", true, BOXED, EXACT_STRING);
        row("\\boxed{x^{2} + 1}", "x^2+1", false, BOXED, NO); // no symbolic equality (Qwen would use sympy)
        row("\\boxed{90^\\circ}", "90", true, BOXED, EXACT_STRING);
        row("\\boxed{90^{\\circ}}", "90", true, BOXED, EXACT_STRING);
        row("\\boxed{\\text{(C)}}", "\\text{(C)}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\text{Monday}}", "Monday", true, BOXED, EXACT_STRING);
        row("\\boxed{-\\frac{3}{4}}", "-0.75", true, BOXED, FRACTION);
        row("\\boxed{\\frac{-3}{4}}", "-\\frac{3}{4}", true, BOXED, FRACTION);
        row("\\boxed{3}", "-3", false, BOXED, NO);
        row("\\boxed{0.333}", "\\frac{1}{3}", false, BOXED, NO); // exact comparison, no 1e-4 tolerance
        row("\\boxed{k = 5}", "5", true, BOXED, EXACT_STRING);
        row("\\boxed{x=3}", "3", true, BOXED, EXACT_STRING);
        row("\\boxed{2\\pi}", "2\\pi", true, BOXED, EXACT_STRING);
        row("\\boxed{\\pi}", "3.14", false, BOXED, NO);
        row("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", true, BOXED, EXACT_STRING);
        row("\\boxed{\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", true, BOXED, EXACT_STRING);
        row("\\boxed{3.0}", "3", true, BOXED, EXACT_STRING);
        row("\\fbox{7}", "7", true, BOXED, EXACT_STRING);
        row("so the result is $\\boxed 7$.", "7", true, BOXED, EXACT_STRING);
        row("First I got \\boxed{3}, but correcting the sign: \\boxed{4}", "4", true, BOXED, EXACT_STRING);
        row("Answer: \\boxed{\\frac{1}{2}", "\\frac{1}{2}", false, FLEXIBLE_LAST_NUMBER, NO); // truncated box
        row("\\boxed{}", "5", false, NOTHING, NO);
        row("\\boxed{\\frac{1}{0}}", "1", false, BOXED, NO);
    }

    static Stream<Arguments> cases() {
        return CASES.stream();
    }

    @Test
    void tableHasAtLeastSixtyCases() {
        assertEquals(true, CASES.size() >= 60, "only " + CASES.size() + " cases");
    }

    @ParameterizedTest(name = "[{index}] {0} vs {1}")
    @MethodSource("cases")
    void verdictMatchesHandWrittenExpectation(String response, String gold, boolean correct,
                                              ExtractionRule extraction, EquivalenceRule equivalence) {
        Verdict v = new Verifier().verify(response, gold);
        assertAll(
                () -> assertEquals(correct, v.correct(), "correct; verdict " + v),
                () -> assertEquals(extraction, v.extractionRule(), "extraction rule; verdict " + v),
                () -> assertEquals(equivalence, v.equivalenceRule(), "equivalence rule; verdict " + v));
    }
}
