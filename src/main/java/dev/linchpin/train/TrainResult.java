package dev.linchpin.train;

/**
 * What a {@link Trainer} run did.
 *
 * @param losses         the loss of every step, in order
 * @param gradNorms      the global gradient norm of every step, before clipping
 * @param responseTokens response tokens trained on, summed over steps
 * @param wallSeconds    wall time of the loop
 */
public record TrainResult(double[] losses, double[] gradNorms, long responseTokens, double wallSeconds) {
    public TrainResult {
        losses = losses.clone();
        gradNorms = gradNorms.clone();
    }

    /** The loss of the last step. */
    public double finalLoss() {
        return losses[losses.length - 1];
    }

    /** Mean loss of steps [from, to). */
    public double meanLoss(int from, int to) {
        if (from < 0 || to > losses.length || from >= to) throw new IllegalArgumentException("bad range [" + from + ", " + to + ")");
        double s = 0;
        for (int i = from; i < to; i++) s += losses[i];
        return s / (to - from);
    }

    @Override
    public double[] losses() {
        return losses.clone();
    }

    @Override
    public double[] gradNorms() {
        return gradNorms.clone();
    }
}
