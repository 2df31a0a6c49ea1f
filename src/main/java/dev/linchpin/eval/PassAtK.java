package dev.linchpin.eval;

/**
 * The unbiased pass@k estimator of Chen et al. (Codex, arXiv 2107.03374): from n samples of which c
 * are correct, pass@k = 1 − C(n−c, k) / C(n, k), the probability that k samples drawn without
 * replacement from the n contain at least one correct one.
 */
public final class PassAtK {
    private PassAtK() {}

    /**
     * pass@k from {@code n} samples with {@code c} correct, in the paper's numerically stable product form
     * 1 − Π_{i=n−c+1}^{n} (1 − k/i) (no binomials, so no overflow for large n).
     *
     * @throws IllegalArgumentException unless 0 ≤ c ≤ n and 1 ≤ k ≤ n
     */
    public static double estimate(int n, int c, int k) {
        if (n < 1) throw new IllegalArgumentException("pass@k needs n >= 1 samples, got n=" + n);
        if (c < 0 || c > n) throw new IllegalArgumentException("correct count must be in [0, n=" + n + "], got c=" + c);
        if (k < 1 || k > n) throw new IllegalArgumentException("k must be in [1, n=" + n + "], got k=" + k);
        if (n - c < k) return 1.0;   // every k-subset contains a correct sample
        double allWrong = 1.0;       // C(n−c, k)/C(n, k) = Π_{i=n−c+1}^{n} (1 − k/i)
        for (int i = n - c + 1; i <= n; i++) allWrong *= 1.0 - (double) k / i;
        return 1.0 - allWrong;
    }
}
