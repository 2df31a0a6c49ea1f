package dev.linchpin.train;

/** The loss became NaN or infinite; training stopped before the optimizer applied the bad step. */
public final class TrainingDivergedException extends RuntimeException {
    private final int step;

    public TrainingDivergedException(int step, double loss, double lr) {
        super("training diverged at step " + step + ": loss = " + loss + " (lr " + lr
                + "); lower the learning rate or raise warmup, the weights are left at the previous step");
        this.step = step;
    }

    /** The 0-based step whose loss was not finite. */
    public int step() {
        return step;
    }
}
