package dev.linchpin.train;

import java.util.List;

/**
 * The denominators of a step's {@link Normalization}, counted over the whole step (every micro-batch):
 * TOKEN_MEAN divides by {@code tokens}, SEQUENCE_MEAN by {@code sequences}. They must be known before any
 * micro-batch's loss is scaled, so a data-parallel trainer all-reduces both across ranks here, and only
 * then runs {@link FineTuner}'s forward/backward with the global totals.
 *
 * @param tokens    response tokens with a nonzero weight
 * @param sequences sequences
 */
record StepTotals(long tokens, long sequences) {
    /** The totals of one rank's examples of a step. */
    static StepTotals of(List<WeightedExample> examples) {
        long tokens = 0;
        for (WeightedExample e : examples) tokens += e.trainableTokens();
        return new StepTotals(tokens, examples.size());
    }
}
