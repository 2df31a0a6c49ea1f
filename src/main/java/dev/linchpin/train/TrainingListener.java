package dev.linchpin.train;

import java.nio.file.Path;

/**
 * Told what {@link FineTuner} does, as it does it (DJL's {@code TrainingListener} idea): a progress bar,
 * a log, an early stop (by throwing), a test probe. The trainer never knows who listens.
 */
@FunctionalInterface
public interface TrainingListener {
    /** After every step, once its metrics line is written and before its checkpoint (if any). */
    void onStep(StepMetrics step);

    /** After a checkpoint directory is complete. */
    default void onCheckpoint(Path checkpoint, int stepsDone) {}
}
