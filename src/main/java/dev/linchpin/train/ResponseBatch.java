package dev.linchpin.train;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * A batch of {@link TokenizedExample}s laid out for next-token training with loss on response tokens only.
 *
 * <p><b>Shift convention.</b> For a sequence {@code x[0..L)} (prompt then response), the model reads
 * {@code x[0..L-1)} (the last token is never an input: nothing follows it) and the hidden state at
 * position {@code t} predicts token {@code t+1}. So {@code targets[t] = x[t+1]} and
 * {@code weights[t] = 1} exactly when {@code x[t+1]} is a response token (EOS included), else 0: the
 * last prompt position carries the loss of the first response token, and no position predicts a
 * prompt token.
 *
 * <p>Rows are right-padded with {@code padId} to the longest input in the batch. Padding comes after
 * every real token, so under causal attention no real position ever sees it and no attention mask is
 * needed; padded positions have weight 0 (their target is {@code padId}, never read by the loss).
 *
 * @param inputIds       [B, T] int64 on the CPU, T = longest sequence length − 1
 * @param targets        [B·T] int64, row-major like {@code inputIds}
 * @param weights        [B·T] float32, 1 on response-token targets, 0 elsewhere
 * @param responseTokens the number of weight-1 positions (the loss denominator)
 */
public record ResponseBatch(Tensor inputIds, Tensor targets, Tensor weights, long responseTokens) {

    /** Lays out {@code examples} (at least one) as described above. */
    public static ResponseBatch of(List<TokenizedExample> examples, long padId) {
        if (examples.isEmpty()) throw new IllegalArgumentException("empty batch");
        int b = examples.size(), t = 0;
        for (TokenizedExample e : examples) t = Math.max(t, e.length() - 1);
        long[] ids = new long[b * t], targets = new long[b * t];
        float[] weights = new float[b * t];
        java.util.Arrays.fill(ids, padId);
        java.util.Arrays.fill(targets, padId);
        long count = 0;
        for (int row = 0; row < b; row++) {
            TokenizedExample e = examples.get(row);
            long[] x = e.sequence();
            int promptLength = e.prompt().length;
            for (int pos = 0; pos < x.length - 1; pos++) {
                int at = row * t + pos;
                ids[at] = x[pos];
                targets[at] = x[pos + 1];
                if (pos + 1 >= promptLength) {
                    weights[at] = 1f;
                    count++;
                }
            }
        }
        Tensor idTensor = Tensor.create(ids, b, t);
        return new ResponseBatch(idTensor, Tensor.create(targets), Tensor.create(weights), count);
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
