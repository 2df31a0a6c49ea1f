package dev.linchpin.train;

/**
 * What a {@link FineTuner} run did (the steps it ran: after a resume, those after the checkpoint).
 *
 * @param losses        the loss of every step, in order
 * @param gradNorms     the global gradient norm of every step, before clipping
 * @param trainedTokens response tokens with a nonzero weight, summed over steps
 * @param wallSeconds   wall time of the loop
 */
public record TrainResult(double[] losses, double[] gradNorms, long trainedTokens, double wallSeconds) {
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
