package dev.linchpin.train;

import java.util.Locale;

/**
 * Hyper-parameters of {@link FineTuner}. Build one with {@link #builder(int)}, whose defaults are
 * {@code linchpin train}'s, and the named setters of {@link Builder}; {@link #toBuilder()} varies one.
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

    /**
     * A builder with {@code linchpin train}'s defaults for {@code steps} steps: 8 sequences per step in one
     * micro-batch, AdamW at 1e-4 with no warmup, cosine decay to 0, no weight decay, clipping at 1, seed 0,
     * all cores, a multi-threaded loss kernel, token-mean normalisation, no DFT, only a final checkpoint
     * (one kept), fp32.
     */
    public static Builder builder(int steps) {
        return new Builder(steps);
    }

    /** A builder holding this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder(steps);
        b.microBatch = microBatch;
        b.gradAccum = gradAccum;
        b.peakLr = peakLr;
        b.warmupSteps = warmupSteps;
        b.schedule = schedule;
        b.minLrRatio = minLrRatio;
        b.weightDecay = weightDecay;
        b.maxGradNorm = maxGradNorm;
        b.seed = seed;
        b.threads = threads;
        b.deterministic = deterministic;
        b.normalization = normalization;
        b.dft = dft;
        b.checkpointEvery = checkpointEvery;
        b.keepCheckpoints = keepCheckpoints;
        b.precision = precision;
        return b;
    }

    /**
     * The learning rate of 0-based step {@code step}: linear warmup ({@link LrSchedule}), then the cosine of
     * {@link LrSchedule} or a straight line from the peak down to {@code peak · minLrRatio} at the last step.
     */
    public double lr(int step) {
        LrSchedule cosine = new LrSchedule(peakLr, warmupSteps, steps, minLrRatio);
        if (schedule == Schedule.COSINE || step < warmupSteps) return cosine.lr(step);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps));
        return peakLr * (minLrRatio + (1 - minLrRatio) * (1 - progress));
    }

    /** Sequences per optimizer step. */
    public int stepExamples() {
        return microBatch * gradAccum;
    }

    /** Named setters over {@link FineTuneConfig}'s fields; {@link #build()} validates. */
    public static final class Builder {
        private int steps;
        private int microBatch = 8, gradAccum = 1;
        private double peakLr = 1e-4;
        private int warmupSteps;
        private Schedule schedule = Schedule.COSINE;
        private double minLrRatio;
        private double weightDecay;
        private double maxGradNorm = 1;
        private long seed;
        private int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private boolean deterministic;
        private Normalization normalization = Normalization.TOKEN_MEAN;
        private boolean dft;
        private int checkpointEvery;
        private int keepCheckpoints = 1;
        private Precision precision = Precision.FP32;

        private Builder(int steps) {
            this.steps = steps;
        }

        /** Optimizer steps over all stages. */
        public Builder steps(int n) { steps = n; return this; }
        /** {@code microBatch} sequences per forward pass, {@code gradAccum} passes per optimizer step. */
        public Builder batch(int microBatch, int gradAccum) { this.microBatch = microBatch; this.gradAccum = gradAccum; return this; }
        /** Peak learning rate, reached after {@code warmupSteps} linear warmup steps. */
        public Builder learningRate(double peak, int warmupSteps) { peakLr = peak; this.warmupSteps = warmupSteps; return this; }
        /** Decay after warmup, down to {@code minLrRatio} × the peak at the last step. */
        public Builder schedule(Schedule s, double minLrRatio) { schedule = s; this.minLrRatio = minLrRatio; return this; }
        /** AdamW's decoupled weight decay. */
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        /** Global gradient-norm clipping; 0 or less: none. */
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        /** Seeds the data order. */
        public Builder seed(long v) { seed = v; return this; }
        /** libtorch intra-op threads. */
        public Builder threads(int v) { threads = v; return this; }
        /** One-thread loss kernel: bit-identical weights for the same inputs, seed, threads and machine. */
        public Builder deterministic(boolean v) { deterministic = v; return this; }
        /** How token losses reduce to the step loss. */
        public Builder normalization(Normalization v) { normalization = v; return this; }
        /** DFT: each token's weight times its detached probability. */
        public Builder dft(boolean v) { dft = v; return this; }
        /** A checkpoint every {@code n} steps and after the last; 0: only after the last. */
        public Builder checkpointEvery(int n) { checkpointEvery = n; return this; }
        /** Keep the latest {@code n} checkpoints. */
        public Builder keepCheckpoints(int n) { keepCheckpoints = n; return this; }
        /** Forward precision. */
        public Builder precision(Precision v) { precision = v; return this; }

        public FineTuneConfig build() {
            return new FineTuneConfig(steps, microBatch, gradAccum, peakLr, warmupSteps, schedule, minLrRatio, weightDecay,
                    maxGradNorm, seed, threads, deterministic, normalization, dft, checkpointEvery, keepCheckpoints, precision);
        }
    }
}
