package dev.linchpin.eval;

import java.util.List;

/**
 * How an evaluation samples and scores.
 *
 * @param samples       n: temperature samples per question for pass@k and entropy (>= 1)
 * @param ks            the k of pass@k, each in [1, n], sorted ascending without duplicates
 * @param temperature   sampling temperature (> 0)
 * @param topP          nucleus mass in (0, 1]
 * @param seed          sampling seed; sample i of the q-th question (0-based over all data sets) uses the
 *                      engine's request id q·n + i, so results do not depend on batching or threads
 * @param maxNewTokens  response budget of greedy and sampled decoding
 * @param maxExamples   the first this many questions of each data set (<= 0: all)
 * @param batchSize     questions prefilled and decoded together
 * @param maxBranches   most sequences decoding at once in the engine
 */
public record EvalOptions(int samples, List<Integer> ks, double temperature, double topP, long seed, int maxNewTokens,
        int maxExamples, int batchSize, int maxBranches) {
    /** Defaults: n = 16, k ∈ {1, 2, 4, 8, 16}, T = 0.6, top-p 0.95 (the usual reasoning-model pass@k setting). */
    public static final int DEFAULT_SAMPLES = 16;
    public static final double DEFAULT_TEMPERATURE = 0.6;
    public static final double DEFAULT_TOP_P = 0.95;

    public EvalOptions {
        if (samples < 1) throw new IllegalArgumentException("samples (n) must be >= 1, got " + samples);
        if (ks == null || ks.isEmpty()) throw new IllegalArgumentException("at least one k is required");
        ks = List.copyOf(ks);
        for (int i = 0; i < ks.size(); i++) {
            int k = ks.get(i);
            if (k < 1 || k > samples) throw new IllegalArgumentException("k must be in [1, n=" + samples + "], got " + k);
            if (i > 0 && k <= ks.get(i - 1)) throw new IllegalArgumentException("k values must be ascending and distinct, got " + ks);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite for pass@k sampling, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (maxNewTokens < 1) throw new IllegalArgumentException("max-new-tokens must be >= 1, got " + maxNewTokens);
        if (batchSize < 1) throw new IllegalArgumentException("batch-size must be >= 1, got " + batchSize);
        if (maxBranches < 1) throw new IllegalArgumentException("max-branches must be >= 1, got " + maxBranches);
    }

    /** The powers of two up to n, and n itself: 1, 2, 4, ..., n. */
    public static List<Integer> defaultKs(int samples) {
        java.util.List<Integer> ks = new java.util.ArrayList<>();
        for (int k = 1; k < samples; k *= 2) ks.add(k);
        ks.add(samples);
        return ks;
    }
}
