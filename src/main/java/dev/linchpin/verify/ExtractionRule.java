package dev.linchpin.verify;

/** Which rule of {@link AnswerExtractor} found the answer in a response, in the order they are tried. */
public enum ExtractionRule {
    /** GSM8K's {@code #### N} marker (lm-evaluation-harness gsm8k "strict-match"). */
    GSM8K_STRICT,
    /** The last {@code \boxed{...}} (or {@code \fbox{...}}), braces matched. */
    BOXED,
    /** "The answer is X" / "the final answer is X". */
    ANSWER_IS,
    /** The last number in the response (lm-evaluation-harness gsm8k "flexible-extract"). */
    FLEXIBLE_LAST_NUMBER,
    /** Nothing that looks like an answer. */
    NONE
}
