package dev.linchpin.train;

import dev.linchpin.kernels.MaskedCeResult;
import dev.linchpin.model.CausalLM;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Supervised training of a {@link CausalLM} on response tokens ({@link ResponseBatch}, {@link ResponseLoss}):
 * AdamW with warmup + cosine ({@link LrSchedule}), global gradient-norm clipping, a seeded data order
 * (a fresh length-grouped shuffle per epoch from {@code java.util.Random(seed)}),
 * and a hard stop on a non-finite loss.
 *
 * <p>Reproducibility: the model's initial weights come from the caller (e.g.
 * {@link CausalLM#randomInit} with a seed); nothing here draws from libtorch's global generator (no
 * dropout), and {@link TrainConfig#deterministic()} fixes the loss kernel's summation order, so the same
 * inputs give bit-identical weights on the same machine and thread count.
 *
 * <p>Threads: sets {@code torch.set_num_threads(config.threads())} for the run. OpenBLAS must be
 * single-threaded ({@code OPENBLAS_NUM_THREADS=1}), else it oversubscribes the cores.
 */
public final class Trainer {
    /** Called after every step (for progress bars and logs). */
    @FunctionalInterface
    public interface StepListener {
        void onStep(int step, int totalSteps, double loss, double lr, double gradNorm, long responseTokens);
    }

    private Trainer() {}

    /**
     * Trains {@code model} in place. Parameters get {@code requires_grad} for the run and lose it after.
     *
     * @throws TrainingDivergedException when a step's loss is NaN or infinite (that step is not applied)
     */
    public static TrainResult train(CausalLM model, List<TokenizedExample> data, long padId, TrainConfig config,
            StepListener listenerOrNull) {
        if (data.isEmpty()) throw new IllegalArgumentException("no training examples");
        Loader.load(torch.class);
        torch.set_num_threads(config.threads());
        LrSchedule schedule = config.schedule();
        List<Tensor> params = model.parameters();
        TensorVector paramVector = new TensorVector(params.toArray(new Tensor[0]));
        AdamWOptions options = new AdamWOptions(schedule.lr(0));
        options.weight_decay().put(config.weightDecay());
        AdamW optimizer = new AdamW(paramVector, options);
        BatchOrder<TokenizedExample> order = new BatchOrder<>(data, TokenizedExample::length, config.batchSize(), config.seed());
        double[] losses = new double[config.steps()], norms = new double[config.steps()];
        long tokens = 0;
        long start = System.nanoTime();
        model.requiresGrad(true);
        try {
            for (int step = 0; step < config.steps(); step++) {
                double lr = schedule.lr(step);
                try (PointerScope scope = new PointerScope()) {
                    optimizer.param_groups().get(0).options().set_lr(lr);
                    optimizer.zero_grad(true);
                    ResponseBatch batch = ResponseBatch.of(order.next(), padId);
                    MaskedCeResult result = ResponseLoss.compute(model, batch, config.deterministic() ? 1 : 0);
                    double loss = result.lossValue();
                    if (!Double.isFinite(loss)) throw new TrainingDivergedException(step, loss, lr);
                    result.backward();
                    double norm = config.maxGradNorm() > 0
                            ? torch.clip_grad_norm_(paramVector, config.maxGradNorm())
                            : torch.clip_grad_norm_(paramVector, Double.MAX_VALUE);
                    if (!Double.isFinite(norm)) throw new TrainingDivergedException(step, norm, lr);
                    optimizer.step();
                    losses[step] = loss;
                    norms[step] = norm;
                    tokens += batch.responseTokens();
                    if (listenerOrNull != null) listenerOrNull.onStep(step, config.steps(), loss, lr, norm, tokens);
                }
            }
        } finally {
            model.requiresGrad(false);
            optimizer.zero_grad(true);
        }
        return new TrainResult(losses, norms, tokens, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Batches in a seeded order. Each epoch is a fresh shuffle of all examples; to waste less compute on
     * padding, the shuffled list is cut into groups of {@link #GROUP_BATCHES} batches, each group is
     * sorted by length and cut into batches, and the batches of the epoch are shuffled again (as
     * transformers' {@code group_by_length} sampler does). Batches may span epochs.
     */
    static final class BatchOrder<E> {
        static final int GROUP_BATCHES = 16;
        private final List<E> data;
        private final java.util.function.ToIntFunction<E> length;
        private final int batchSize;
        private final Random random;
        private final List<Integer> order = new ArrayList<>();
        private int cursor;

        BatchOrder(List<E> data, java.util.function.ToIntFunction<E> length, int batchSize, long seed) {
            this.data = List.copyOf(data);
            this.length = length;
            this.batchSize = batchSize;
            this.random = new Random(seed);
            reshuffle();
        }

        private void reshuffle() {
            List<Integer> shuffled = new ArrayList<>();
            for (int i = 0; i < data.size(); i++) shuffled.add(i);
            Collections.shuffle(shuffled, random);
            List<List<Integer>> batches = new ArrayList<>();
            int group = batchSize * GROUP_BATCHES;
            for (int from = 0; from < shuffled.size(); from += group) {
                List<Integer> g = new ArrayList<>(shuffled.subList(from, Math.min(shuffled.size(), from + group)));
                g.sort(java.util.Comparator.comparingInt((Integer i) -> length.applyAsInt(data.get(i))).thenComparingInt(i -> i));
                for (int b = 0; b < g.size(); b += batchSize) batches.add(g.subList(b, Math.min(g.size(), b + batchSize)));
            }
            Collections.shuffle(batches, random);
            order.clear();
            for (List<Integer> b : batches) order.addAll(b);
            cursor = 0;
        }

        List<E> next() {
            List<E> batch = new ArrayList<>(batchSize);
            while (batch.size() < batchSize) {
                if (cursor == order.size()) reshuffle();
                batch.add(data.get(order.get(cursor++)));
            }
            return batch;
        }
    }
}
