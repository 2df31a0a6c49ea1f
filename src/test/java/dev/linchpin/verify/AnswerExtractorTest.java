package dev.linchpin.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Gold-answer extraction from real GSM8K / MATH solution fields, and rule selection. */
class AnswerExtractorTest {

    @Test
    void goldFromRealGsm8kAnswerField() {
        // GSM8K train, first record's answer field (calculator annotations included).
        String answer = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
                + "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72";
        assertEquals("72", AnswerExtractor.goldFromGsm8kAnswer(answer));
        assertEquals("1,234", AnswerExtractor.goldFromGsm8kAnswer("a\n#### 1,234 \n"));
    }

    @Test
    void gsm8kAnswerWithoutMarkerIsRejectedWithTheText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AnswerExtractor.goldFromGsm8kAnswer("She has 5 apples."));
        assertTrue(e.getMessage().contains("####") && e.getMessage().contains("She has 5 apples."), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AnswerExtractor.goldFromGsm8kAnswer("x\n####   "));
    }

    @Test
    void goldFromRealMathSolutionWithNestedBraces() {
        // MATH (Hendrycks) style: the last \boxed{} holds the answer, braces nest.
        String solution = "We have $\\sin 60^\\circ = \\frac{\\sqrt{3}}{2}$, so $\\boxed{\\frac{\\sqrt{3}}{2}}$.";
        assertEquals("\\frac{\\sqrt{3}}{2}", AnswerExtractor.goldFromMathSolution(solution));
        assertEquals("\\left( 3, \\frac{\\pi}{2} \\right)",
                AnswerExtractor.goldFromMathSolution("Hence \\boxed{x} is wrong; the point is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$"));
        assertEquals("\\text{(C)}", AnswerExtractor.goldFromMathSolution("\\fbox{\\text{(C)}}"));
    }

    @Test
    void mathSolutionWithoutCompleteBoxIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> AnswerExtractor.goldFromMathSolution("The answer is 5."));
        assertThrows(IllegalArgumentException.class, () -> AnswerExtractor.goldFromMathSolution("\\boxed{\\frac{1}{2}"));
        assertThrows(IllegalArgumentException.class, () -> AnswerExtractor.goldFromMathSolution("\\boxed{ }"));
    }

    @Test
    void lastBoxedHandlesDeepNestingAndAbsence() {
        assertEquals("a{b{c}}d", AnswerExtractor.lastBoxed("\\boxed{1} then \\boxed{a{b{c}}d} end"));
        assertNull(AnswerExtractor.lastBoxed("no box here"));
        assertNull(AnswerExtractor.lastBoxed("\\boxed{{{"));
    }

    @Test
    void strictOnlyExtractorIgnoresOtherForms() {
        AnswerExtractor strict = new AnswerExtractor(EnumSet.of(ExtractionRule.GSM8K_STRICT));
        assertFalse(strict.extract("The answer is 5. \\boxed{5}").found());
        assertEquals(new Extraction("5", ExtractionRule.GSM8K_STRICT), strict.extract("so 5\n#### 5"));
        Verdict v = new Verifier(strict).verify("She has 5 apples.", "5");
        assertFalse(v.correct());
        assertEquals(ExtractionRule.NONE, v.extractionRule());
    }

    @Test
    void strictMarkerWinsOverBoxAndBoxOverAnswerIs() {
        AnswerExtractor all = new AnswerExtractor();
        assertEquals(ExtractionRule.GSM8K_STRICT, all.extract("\\boxed{3}\n#### 4").rule());
        assertEquals("4", all.extract("\\boxed{3}\n#### 4").answer());
        assertEquals(new Extraction("3", ExtractionRule.BOXED), all.extract("The answer is 4. \\boxed{3}"));
    }

    @Test
    void blankGoldIsRejected() {
        Verifier v = new Verifier();
        assertThrows(IllegalArgumentException.class, () -> v.verify("#### 5", null));
        assertThrows(IllegalArgumentException.class, () -> v.verify("#### 5", "  $ "));
    }

    @Test
    void hostileInputsAreHandledWithoutBlowingUp() {
        Verifier v = new Verifier();
        String longDigits = "9".repeat(100_000);
        assertFalse(v.verify("#### " + longDigits, "9").correct());
        String deepBraces = "\\boxed{" + "{".repeat(50_000) + "}".repeat(50_000) + "}";
        assertEquals(ExtractionRule.BOXED, v.verify(deepBraces, "1").extractionRule());
    }
}
