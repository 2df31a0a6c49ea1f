package dev.linchpin.verify;

import java.util.Objects;

/**
 * Judges a model response against a gold answer: extract ({@link AnswerExtractor}), normalise both
 * ({@link AnswerNormalizer}), compare ({@link AnswerEquivalence}). Stateless and thread-safe.
 *
 * <p>The gold answer is a bare answer string ("18", "\frac{1}{2}", "1,234"); get it from a dataset
 * solution with {@link AnswerExtractor#goldFromGsm8kAnswer} or {@link AnswerExtractor#goldFromMathSolution}.
 */
public final class Verifier {
    private final AnswerExtractor extractor;

    /** A verifier with every extraction rule enabled. */
    public Verifier() {
        this(new AnswerExtractor());
    }

    public Verifier(AnswerExtractor extractor) {
        this.extractor = Objects.requireNonNull(extractor, "extractor");
    }

    /**
     * @param response   the model's full response
     * @param goldAnswer the bare gold answer
     * @throws IllegalArgumentException if the gold answer is null or normalises to nothing
     */
    public Verdict verify(String response, String goldAnswer) {
        if (goldAnswer == null) {
            throw new IllegalArgumentException("gold answer is null");
        }
        NormalizedAnswer gold = AnswerNormalizer.normalize(goldAnswer);
        if (gold.text().isEmpty()) {
            throw new IllegalArgumentException("gold answer '" + goldAnswer + "' is empty after normalisation");
        }
        Extraction found = extractor.extract(response);
        if (!found.found()) {
            return new Verdict(false, null, ExtractionRule.NONE, null, gold.text(), EquivalenceRule.NONE);
        }
        NormalizedAnswer prediction = AnswerNormalizer.normalize(found.answer());
        EquivalenceRule rule = AnswerEquivalence.compare(prediction, gold);
        return new Verdict(rule != EquivalenceRule.NONE, found.answer(), found.rule(), prediction.text(),
                gold.text(), rule);
    }
}
