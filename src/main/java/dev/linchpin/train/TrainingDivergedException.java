package dev.linchpin.train;

import dev.linchpin.UserError;

/** The loss became NaN or infinite; training stopped before the optimizer applied the bad step. */
public final class TrainingDivergedException extends RuntimeException implements UserError {
    private final int step;

    /** @param whatIsLeft what the run leaves behind (the last good checkpoint, or nothing written) */
    public TrainingDivergedException(int step, double value, double lr, String whatIsLeft) {
        super("training diverged at step " + step + ": loss or gradient norm = " + value + " (lr " + lr
                + "); lower the learning rate or raise warmup; " + whatIsLeft);
        this.step = step;
    }

    /** The 0-based step whose loss was not finite. */
    public int step() {
        return step;
    }
}
