package dev.linchpin.train;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * One micro-batch of {@link WeightedExample}s laid out for next-token training, with each response
 * token's weight and the step's {@link Normalization} folded in.
 *
 * <p><b>Shift convention.</b> For a sequence {@code x[0..L)} (prompt then response), the model reads
 * {@code x[0..L-1)} (the last token is never an input: nothing follows it) and the hidden state at
 * position {@code t} predicts token {@code t+1}. So {@code targets[t] = x[t+1]}, and {@code weights[t]}
 * is the weight of {@code x[t+1]} when it is a response token (EOS included), else 0: the last prompt
 * position carries the weight of the first response token, and no position predicts a prompt token.
 *
 * <p>Rows are right-padded with {@code padId} to the longest input in the batch. Padding comes after
 * every real token, so under causal attention no real position ever sees it and no attention mask is
 * needed; padded positions have weight 0 (their target is {@code padId}, never read by the loss).
 *
 * <p>The kernel computes Σ_i w_i·nll_i / denom. Per mode, for a step with {@code stepTokens} trainable
 * tokens and {@code stepSequences} sequences over all its micro-batches:
 * TOKEN_MEAN keeps w and uses denom = stepTokens; SEQUENCE_MEAN scales sequence s's weights by
 * 1 / (its trainable tokens) and uses denom = stepSequences; SUM keeps w and uses denom = 1.
 *
 * @param inputIds [B, T] int64
 * @param targets  [B·T] int64
 * @param weights  [B·T] float32, normalisation folded in
 * @param denom    the kernel's denominator
 * @param trainableTokens positions with a nonzero weight in this micro-batch
 */
public record WeightedBatch(Tensor inputIds, Tensor targets, Tensor weights, double denom, long trainableTokens) {

    /**
     * Lays out one micro-batch of a step.
     *
     * @throws IllegalArgumentException if an example has no trainable token (callers skip those)
     */
    public static WeightedBatch of(List<WeightedExample> examples, long padId, Normalization mode, long stepTokens,
            long stepSequences) {
        if (examples.isEmpty()) throw new IllegalArgumentException("empty batch");
        if (stepTokens < 1 || stepSequences < 1) throw new IllegalArgumentException("step has no trainable tokens");
        int b = examples.size(), t = 0;
        for (WeightedExample e : examples) t = Math.max(t, e.length() - 1);
        long[] ids = new long[b * t], targets = new long[b * t];
        float[] weights = new float[b * t];
        Arrays.fill(ids, padId);
        Arrays.fill(targets, padId);
        long count = 0;
        for (int row = 0; row < b; row++) {
            WeightedExample e = examples.get(row);
            int trainable = e.trainableTokens();
            if (trainable == 0) throw new IllegalArgumentException("example " + row + " of the batch has no trainable token");
            long[] prompt = e.prompt(), response = e.response();
            float[] w = e.weights();
            float scale = mode == Normalization.SEQUENCE_MEAN ? 1f / trainable : 1f;
            for (int pos = 0; pos < e.length() - 1; pos++) {
                int at = row * t + pos;
                ids[at] = pos < prompt.length ? prompt[pos] : response[pos - prompt.length];
                int next = pos + 1;
                targets[at] = next < prompt.length ? prompt[next] : response[next - prompt.length];
                if (next >= prompt.length) weights[at] = w[next - prompt.length] * scale;
            }
            count += trainable;
        }
        double denom = switch (mode) {
            case TOKEN_MEAN -> stepTokens;
            case SEQUENCE_MEAN -> stepSequences;
            case SUM -> 1.0;
        };
        return new WeightedBatch(Tensor.create(ids, b, t), Tensor.create(targets), Tensor.create(weights), denom, count);
    }

    /** Batch size B. */
    public long rows() {
        return inputIds.size(0);
    }

    /** Padded input length T. */
    public long columns() {
        return inputIds.size(1);
    }
}
