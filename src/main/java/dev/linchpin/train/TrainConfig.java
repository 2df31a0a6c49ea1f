package dev.linchpin.train;

/**
 * Hyper-parameters of {@link Trainer}.
 *
 * @param steps          optimizer steps
 * @param batchSize      sequences per step
 * @param peakLr         AdamW learning rate after warmup
 * @param warmupSteps    linear warmup steps (then cosine decay)
 * @param minLrRatio     final learning rate as a fraction of {@code peakLr}
 * @param weightDecay    AdamW decoupled weight decay (applied to every parameter)
 * @param maxGradNorm    clip the global gradient L2 norm to this; 0 or less = no clipping
 * @param seed           seeds the data order (examples are reshuffled every epoch)
 * @param threads        libtorch intra-op threads for the run
 * @param deterministic  run the loss kernel on one thread so that its dW sums in a fixed order: with
 *                       the same seed, data, threads and machine, the final weights are bit-identical
 */
public record TrainConfig(int steps, int batchSize, double peakLr, int warmupSteps, double minLrRatio,
                          double weightDecay, double maxGradNorm, long seed, int threads, boolean deterministic) {
    public TrainConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (!(weightDecay >= 0) || Double.isNaN(maxGradNorm)) throw new IllegalArgumentException("weightDecay must be >= 0 and maxGradNorm a number");
        new LrSchedule(peakLr, warmupSteps, steps, minLrRatio); // validates the schedule's parameters
    }

    /** The learning-rate schedule these parameters define. */
    public LrSchedule schedule() {
        return new LrSchedule(peakLr, warmupSteps, steps, minLrRatio);
    }
}
