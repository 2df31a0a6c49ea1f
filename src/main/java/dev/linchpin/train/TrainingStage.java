package dev.linchpin.train;

import java.util.List;

/**
 * A run of consecutive optimizer steps over one data set (SFTKey has two: full SFT, then the answer
 * span only; the other objectives one).
 *
 * @param name  for logs and metrics
 * @param data  the weighted examples; those with no trainable token are skipped by {@link FineTuner}
 * @param steps optimizer steps of this stage
 */
public record TrainingStage(String name, List<WeightedExample> data, int steps) {
    public TrainingStage {
        if (steps < 1) throw new IllegalArgumentException("stage " + name + " needs >= 1 step, got " + steps);
        data = List.copyOf(data);
    }
}
