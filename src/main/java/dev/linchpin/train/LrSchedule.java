package dev.linchpin.train;

/**
 * Linear warmup from 0 to the peak over {@code warmupSteps}, then cosine decay to
 * {@code peak · minRatio} at {@code totalSteps}, as transformers'
 * {@code get_cosine_with_min_lr_schedule_with_warmup}. Steps count from 0; step {@code s} uses
 * {@code lr(s)}.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, double minRatio) {
    public LrSchedule {
        if (!(peak > 0) || Double.isInfinite(peak)) throw new IllegalArgumentException("peak learning rate must be positive, got " + peak);
        if (totalSteps < 1 || warmupSteps < 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps >= 1, got " + warmupSteps + "/" + totalSteps);
        }
        if (!(minRatio >= 0 && minRatio <= 1)) throw new IllegalArgumentException("minRatio must be in [0, 1], got " + minRatio);
    }

    /** The learning rate of step {@code step} (0-based). */
    public double lr(int step) {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;  // never 0: step 0 still learns
        int decaySteps = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (minRatio + (1 - minRatio) * cosine);
    }
}
