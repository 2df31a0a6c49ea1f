package dev.linchpin.train;

/** The loss became NaN or infinite; training stopped before the optimizer applied the bad step. */
public final class TrainingDivergedException extends RuntimeException {
    private final int step;

    public TrainingDivergedException(int step, double loss, double lr) {
        super("training diverged at step " + step + ": loss = " + loss + " (lr " + lr
                + "); lower the learning rate or raise warmup, the weights are left at the previous step");
        this.step = step;
    }

    /** As above, with what is left on disk (e.g. the last good checkpoint) appended. */
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
