package dev.linchpin.verify;

/**
 * An answer after {@link AnswerNormalizer}.
 *
 * @param text    the normalised text (may be empty)
 * @param percent whether the original carried a percent sign ({@code %}, {@code \%}, "percent"), which
 *                normalisation removes; {@link AnswerEquivalence} uses it for percentage equivalence
 */
public record NormalizedAnswer(String text, boolean percent) {
}
