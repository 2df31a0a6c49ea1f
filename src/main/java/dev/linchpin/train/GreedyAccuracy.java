package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.KvCache;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.Verifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Greedy accuracy of a model on prompts with gold answers: decode each prompt greedily until EOS or
 * {@code maxNewTokens}, decode the new tokens to text without special tokens, and judge it with the
 * {@link Verifier}.
 *
 * <p>Batching without padding: prompts of the same token length are decoded together in lock-step
 * with one batched KV cache ({@link CausalLM#forwardIncremental} takes no padding mask, and equal
 * lengths need none). A row that has produced EOS keeps decoding until its batch is done, but its
 * extra tokens are discarded. The arg-max is taken in Java with the lowest id winning ties, as
 * {@link dev.linchpin.model.Generation#greedy} does; batched GEMMs may round differently from
 * single-row ones, so a near-tie can rarely resolve differently than one-at-a-time decoding.
 */
public final class GreedyAccuracy {
    private GreedyAccuracy() {}

    /** A prompt (already formatted and tokenized, exactly as in training) and its bare gold answer. */
    public record Item(long[] promptIds, String goldAnswer) {
        public Item {
            if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("empty prompt");
            if (goldAnswer == null) throw new IllegalArgumentException("gold answer is null");
            promptIds = promptIds.clone();
        }
    }

    /**
     * @param correct   how many responses the verifier accepted
     * @param responses the decoded responses, in item order
     */
    public record Result(int correct, List<String> responses) {
        public Result {
            responses = List.copyOf(responses);
        }

        public int total() {
            return responses.size();
        }

        /** correct / total (0 for no items). */
        public double accuracy() {
            return responses.isEmpty() ? 0 : (double) correct / responses.size();
        }
    }

    /**
     * @param maxBatch        most prompts decoded together
     * @param afterEachOrNull called with the number of items done so far
     */
    public static Result evaluate(CausalLM model, Tokenizer tokenizer, List<Item> items, int maxNewTokens, int maxBatch,
            Verifier verifier, IntConsumer afterEachOrNull) {
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        long[] eos = tokenizer.eosTokenIds().stream().mapToLong(Long::longValue).toArray();
        Map<Integer, List<Integer>> byLength = new TreeMap<>();
        for (int i = 0; i < items.size(); i++) byLength.computeIfAbsent(items.get(i).promptIds.length, k -> new ArrayList<>()).add(i);
        String[] responses = new String[items.size()];
        boolean[] correct = new boolean[items.size()];
        int done = 0;
        for (List<Integer> group : byLength.values()) {
            for (int from = 0; from < group.size(); from += maxBatch) {
                List<Integer> chunk = group.subList(from, Math.min(group.size(), from + maxBatch));
                long[][] prompts = new long[chunk.size()][];
                for (int r = 0; r < prompts.length; r++) prompts[r] = items.get(chunk.get(r)).promptIds;
                long[][] generated = greedyEqualLength(model, prompts, maxNewTokens, eos);
                for (int r = 0; r < prompts.length; r++) {
                    int i = chunk.get(r);
                    responses[i] = tokenizer.decode(generated[r], true);
                    correct[i] = verifier.verify(responses[i], items.get(i).goldAnswer()).correct();
                    if (afterEachOrNull != null) afterEachOrNull.accept(++done);
                }
            }
        }
        int right = 0;
        for (boolean c : correct) if (c) right++;
        return new Result(right, Arrays.asList(responses));
    }

    /**
     * Greedy continuations of prompts that all have the same length, decoded as one batch.
     *
     * @return per prompt the new tokens (at most {@code maxNew}), ending with an EOS id when one was produced
     */
    public static long[][] greedyEqualLength(CausalLM model, long[][] prompts, int maxNew, long[] eosIds) {
        int b = prompts.length;
        if (b == 0) return new long[0][];
        int length = prompts[0].length;
        if (length == 0) throw new IllegalArgumentException("prompt is empty");
        long[] flat = new long[b * length];
        for (int r = 0; r < b; r++) {
            if (prompts[r].length != length) {
                throw new IllegalArgumentException("prompt " + r + " has " + prompts[r].length + " tokens, prompt 0 has " + length);
            }
            System.arraycopy(prompts[r], 0, flat, r * length, length);
        }
        KvCache cache = model.newCache(b, length + Math.max(1, maxNew));
        long[][] out = new long[b][maxNew];
        int[] count = new int[b];
        boolean[] finished = new boolean[b];
        int open = b;
        Tensor input = Tensor.create(flat, b, length);
        for (int step = 0; step < maxNew && open > 0; step++) {
            long[] next = new long[b];
            try (PointerScope scope = new PointerScope()) {
                Tensor logits = model.forwardIncremental(input.to(model.device(), ScalarType.Long), cache);
                Tensor last = logits.select(1, logits.size(1) - 1).to(ScalarType.Float).cpu().contiguous();
                int v = (int) last.size(1);
                float[] values = new float[b * v];
                new FloatPointer(last.data_ptr()).get(values);
                for (int r = 0; r < b; r++) {
                    int best = r * v;
                    for (int k = r * v; k < (r + 1) * v; k++) {
                        if (Float.isNaN(values[k])) throw new IllegalStateException("model produced NaN logits");
                        if (values[k] > values[best]) best = k;
                    }
                    next[r] = best - r * v;
                    if (!finished[r]) {
                        out[r][count[r]++] = next[r];
                        if (contains(eosIds, next[r])) {
                            finished[r] = true;
                            open--;
                        }
                    }
                }
            }
            input = Tensor.create(next, b, 1);
        }
        long[][] result = new long[b][];
        for (int r = 0; r < b; r++) result[r] = Arrays.copyOf(out[r], count[r]);
        return result;
    }

    private static boolean contains(long[] ids, long id) {
        for (long e : ids) if (e == id) return true;
        return false;
    }
}
