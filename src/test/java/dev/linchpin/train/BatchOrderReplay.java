package dev.linchpin.train;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Test access to the trainer's data order: which examples each optimizer step of {@link FineTuner} takes,
 * so a test outside this package can predict per-step metrics from data it read itself.
 */
public final class BatchOrderReplay {
    private BatchOrderReplay() {}

    /**
     * The examples of each of {@code steps} steps of a one-stage {@link FineTuner} run over {@code usable}
     * (the stage's examples that have a trainable token, in stage order), dealt as FineTuner deals them:
     * {@code stepExamples} per step, seeded with {@code seed} (stage index 0).
     */
    public static <E> List<List<E>> steps(List<E> usable, ToIntFunction<E> length, int stepExamples, long seed, int steps) {
        Trainer.BatchOrder<E> order = new Trainer.BatchOrder<>(usable, length, stepExamples, seed);
        List<List<E>> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) out.add(order.next());
        return out;
    }
}
