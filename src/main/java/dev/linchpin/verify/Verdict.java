package dev.linchpin.verify;

/**
 * The verifier's judgement of one response against one gold answer.
 *
 * @param correct              whether the extracted answer is equivalent to the gold answer
 * @param extracted            the raw answer text found in the response (null when none was found)
 * @param extractionRule       which extraction rule found it ({@link ExtractionRule#NONE} if none)
 * @param normalizedPrediction the extracted answer after {@link AnswerNormalizer} (null when none)
 * @param normalizedGold       the gold answer after {@link AnswerNormalizer}
 * @param equivalenceRule      which equivalence rule matched ({@link EquivalenceRule#NONE} when incorrect)
 */
public record Verdict(boolean correct, String extracted, ExtractionRule extractionRule,
                      String normalizedPrediction, String normalizedGold, EquivalenceRule equivalenceRule) {
}
