package dev.linchpin.train;

import java.util.Locale;

/**
 * Hyper-parameters of {@link FineTuner}.
 *
 * @param steps           optimizer steps (over all stages)
 * @param microBatch      sequences per forward pass
 * @param gradAccum       micro-batches per optimizer step
 * @param peakLr          AdamW learning rate after warmup
 * @param warmupSteps     linear warmup steps
 * @param schedule        decay after warmup
 * @param minLrRatio      final learning rate as a fraction of the peak
 * @param weightDecay     AdamW decoupled weight decay
 * @param maxGradNorm     clip the global gradient norm to this; 0 or less: no clipping
 * @param seed            seeds the data order (the same seed gives the same batches whatever the
 *                        micro-batch / accumulation split of a step)
 * @param threads         libtorch intra-op threads
 * @param deterministic   loss kernel on one thread: bit-identical weights for the same inputs
 * @param normalization   how token losses reduce to the step loss
 * @param dft             weight each token by its detached probability (DFT)
 * @param checkpointEvery write a checkpoint every this many steps (and after the last); 0: only final
 * @param keepCheckpoints how many of the latest checkpoint directories to keep (at least 1)
 * @param precision       forward precision ({@link Precision}); master weights and AdamW state are fp32 either way
 */
public record FineTuneConfig(int steps, int microBatch, int gradAccum, double peakLr, int warmupSteps, Schedule schedule,
        double minLrRatio, double weightDecay, double maxGradNorm, long seed, int threads, boolean deterministic,
        Normalization normalization, boolean dft, int checkpointEvery, int keepCheckpoints, Precision precision) {

    /** Learning-rate decay after warmup. */
    public enum Schedule {
        COSINE, LINEAR;

        public static Schedule parse(String s) {
            try {
                return valueOf(s.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("schedule must be cosine or linear, got '" + s + "'", e);
            }
        }
    }

    /** fp32, keeping only the latest checkpoint. */
    public FineTuneConfig(int steps, int microBatch, int gradAccum, double peakLr, int warmupSteps, Schedule schedule,
            double minLrRatio, double weightDecay, double maxGradNorm, long seed, int threads, boolean deterministic,
            Normalization normalization, boolean dft, int checkpointEvery) {
        this(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm, seed, threads,
                deterministic, normalization, dft, checkpointEvery, 1, Precision.FP32);
    }

    public FineTuneConfig {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (microBatch < 1 || gradAccum < 1) throw new IllegalArgumentException("batch size and gradient accumulation must be >= 1");
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (!(weightDecay >= 0) || Double.isNaN(maxGradNorm)) throw new IllegalArgumentException("weight decay must be >= 0 and max grad norm a number");
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0");
        if (keepCheckpoints < 1) throw new IllegalArgumentException("checkpoints to keep must be >= 1, got " + keepCheckpoints);
        if (schedule == null || normalization == null || precision == null) {
            throw new IllegalArgumentException("schedule, normalization and precision are required");
        }
        new LrSchedule(peakLr, warmupSteps, steps, minLrRatio);   // validates
    }

    /** The learning rate of 0-based step {@code step}. */
    public double lr(int step) {
        LrSchedule cosine = new LrSchedule(peakLr, warmupSteps, steps, minLrRatio);
        if (schedule == Schedule.COSINE || step < warmupSteps) return cosine.lr(step);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps));
        return peakLr * (minLrRatio + (1 - minLrRatio) * (1 - progress));
    }

    /**
     * The {@code linchpin train} defaults for {@code steps} steps: 8 sequences per step, AdamW at 1e-4 with
     * no warmup, cosine decay to 0, no weight decay, clipping at 1, seed 0, all cores, token-mean
     * normalisation, only a final checkpoint, fp32. Adjust with the {@code with…} methods.
     */
    public static FineTuneConfig defaults(int steps) {
        return new FineTuneConfig(steps, 8, 1, 1e-4, 0, Schedule.COSINE, 0, 0, 1, 0L,
                Math.max(1, Runtime.getRuntime().availableProcessors()), false, Normalization.TOKEN_MEAN, false, 0, 1, Precision.FP32);
    }

    /** This configuration with {@code microBatch} sequences per forward pass and {@code gradAccum} passes per step. */
    public FineTuneConfig withBatch(int microBatch, int gradAccum) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm,
                seed, threads, deterministic, normalization, dft, checkpointEvery, keepCheckpoints, precision);
    }

    /** This configuration with peak learning rate {@code peak} after {@code warmup} linear warmup steps. */
    public FineTuneConfig withLearningRate(double peak, int warmup) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peak, warmup, schedule, minLrRatio, weightDecay, maxGradNorm,
                seed, threads, deterministic, normalization, dft, checkpointEvery, keepCheckpoints, precision);
    }

    /** This configuration with another data-order seed and libtorch thread count. */
    public FineTuneConfig withSeedAndThreads(long newSeed, int newThreads) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm,
                newSeed, newThreads, deterministic, normalization, dft, checkpointEvery, keepCheckpoints, precision);
    }

    /** This configuration with DFT weighting on or off (each token weighted by its detached probability). */
    public FineTuneConfig withDft(boolean on) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm,
                seed, threads, deterministic, normalization, on, checkpointEvery, keepCheckpoints, precision);
    }

    /** This configuration with another forward precision. */
    public FineTuneConfig withPrecision(Precision p) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm,
                seed, threads, deterministic, normalization, dft, checkpointEvery, keepCheckpoints, p);
    }

    /** This configuration keeping the latest {@code n} checkpoints. */
    public FineTuneConfig withKeepCheckpoints(int n) {
        return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay, maxGradNorm,
                seed, threads, deterministic, normalization, dft, checkpointEvery, n, precision);
    }

    /** Sequences per optimizer step. */
    public int stepExamples() {
        return microBatch * gradAccum;
    }
}
