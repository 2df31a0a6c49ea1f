package dev.linchpin.engine;

import java.util.List;

/**
 * How branches decode and when they stop.
 *
 * @param maxNew        most tokens generated per branch (>= 1)
 * @param eosIds        a branch stops after producing one of these
 * @param stopSequences a branch stops when its generated tokens end with one of these (each non-empty)
 * @param temperature   <= 0: greedy (arg-max, ties to the lowest id); else sampling from softmax(logits / temperature)
 * @param topP          nucleus mass in (0, 1]; 1 = no cut
 * @param seed          sampling seed
 * @param maxBatch      most branches decoding at once (continuous batching refills freed slots)
 */
public record RolloutOptions(int maxNew, long[] eosIds, List<long[]> stopSequences, double temperature, double topP,
        long seed, int maxBatch) {
    public RolloutOptions {
        if (maxNew < 1) throw new IllegalArgumentException("maxNew must be >= 1, got " + maxNew);
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        if (Double.isNaN(temperature)) throw new IllegalArgumentException("temperature is NaN");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        eosIds = eosIds == null ? new long[0] : eosIds.clone();
        stopSequences = stopSequences == null ? List.of() : List.copyOf(stopSequences);
        for (long[] s : stopSequences) {
            if (s == null || s.length == 0) throw new IllegalArgumentException("stop sequences must be non-empty");
        }
    }

    /** Greedy decoding of up to {@code maxNew} tokens, stopping at {@code eosIds}, 64 branches at once. */
    public static RolloutOptions greedy(int maxNew, long... eosIds) {
        return new RolloutOptions(maxNew, eosIds, List.of(), 0.0, 1.0, 0L, 64);
    }

    /** Sampling at {@code temperature} with nucleus {@code topP} and {@code seed}. */
    public static RolloutOptions sampling(int maxNew, double temperature, double topP, long seed, long... eosIds) {
        return new RolloutOptions(maxNew, eosIds, List.of(), temperature, topP, seed, 64);
    }

    /** The same options with another batch size. */
    public RolloutOptions withMaxBatch(int n) {
        return new RolloutOptions(maxNew, eosIds, stopSequences, temperature, topP, seed, n);
    }

    /** The same options with stop sequences. */
    public RolloutOptions withStopSequences(List<long[]> sequences) {
        return new RolloutOptions(maxNew, eosIds, sequences, temperature, topP, seed, maxBatch);
    }
}
