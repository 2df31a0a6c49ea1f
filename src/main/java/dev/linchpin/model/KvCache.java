package dev.linchpin.model;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Keys and values of every layer for incremental decoding, preallocated as
 * [B, numKvHeads, capacity, headDim] per layer in the model's dtype and device. Keys are stored
 * after RoPE, so a cached position never needs recomputing. Made by {@link CausalLM#newCache};
 * filled by {@link CausalLM#forwardIncremental}. Not thread-safe.
 */
public final class KvCache {
    private final Tensor[] keys, values;
    private final long batch, capacity;
    private long length;

    KvCache(ModelConfig config, long batch, long capacity, TensorOptions options) {
        if (batch <= 0 || capacity <= 0) throw new IllegalArgumentException("batch and capacity must be positive: " + batch + ", " + capacity);
        this.batch = batch;
        this.capacity = capacity;
        this.keys = new Tensor[config.numLayers()];
        this.values = new Tensor[config.numLayers()];
        long[] shape = {batch, config.numKvHeads(), capacity, config.headDim()};
        try (PointerScope scope = new PointerScope()) {
            for (int l = 0; l < keys.length; l++) {
                keys[l] = Scopes.keep(torch.zeros(shape, options));
                values[l] = Scopes.keep(torch.zeros(shape, options));
            }
        }
    }

    /** Positions already cached (the next token's position). */
    public long length() {
        return length;
    }

    /** Maximum number of positions. */
    public long capacity() {
        return capacity;
    }

    /** Batch size the cache was made for. */
    public long batch() {
        return batch;
    }

    /** Forgets all cached positions (the buffers are reused). */
    public void reset() {
        length = 0;
    }

    /** Rolls the cache back to its first {@code newLength} positions (e.g. to branch from a shared prefix). */
    public void truncate(long newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " positions to " + newLength);
        length = newLength;
    }

    void checkRoom(long batchSize, long newTokens) {
        if (batchSize != batch) throw new IllegalArgumentException("cache was made for batch " + batch + ", got " + batchSize);
        if (length + newTokens > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " cached + " + newTokens + " new > capacity " + capacity);
        }
    }

    /** Writes k, v [B, KV, T, hd] of one layer after the cached positions; returns views over [0, length + T). */
    Tensor[] append(int layer, Tensor k, Tensor v) {
        long t = k.size(2);
        keys[layer].narrow(2, length, t).copy_(k);
        values[layer].narrow(2, length, t).copy_(v);
        return new Tensor[] {keys[layer].narrow(2, 0, length + t), values[layer].narrow(2, 0, length + t)};
    }

    void advance(long t) {
        length += t;
    }

    @Override
    public String toString() {
        return "KvCache[layers=" + keys.length + " batch=" + batch + " length=" + length + "/" + capacity + " "
                + Arrays.toString(keys[0].sizes().vec().get()) + "]";
    }

}
