package dev.linchpin.report;

import java.util.Arrays;
import java.util.Random;

/**
 * A paired bootstrap over questions and training seeds for the difference of two models' mean
 * per-question scores (greedy 0/1, or the per-question unbiased pass@k estimate).
 *
 * <p>Input: {@code a[s][q]} and {@code b[s][q]}, the scores of the two models trained with seed index
 * {@code s} on question {@code q} (a model without seeds, the base, repeats its one row). One replicate
 * draws {@code S} seed indices and then {@code Q} question indices uniformly with replacement from one
 * {@link Random} seeded with {@link #RNG_SEED} (seeds first, then questions, replicate after replicate),
 * and takes the mean of {@code a - b} over the drawn (seed, question) pairs; a pair keeps both models'
 * scores together, which is what makes it paired. The interval is the percentile interval of {@link #B}
 * replicates: sorted values at indices {@code floor(0.025 B)} and {@code ceil(0.975 B) - 1}.
 * The point estimate is the mean of {@code a - b} over every seed and question.
 */
public final class PairedBootstrap {
    /** Replicates. */
    public static final int B = 2000;
    /** The resampling RNG's seed: the same inputs give the same interval. */
    public static final long RNG_SEED = 20251010L;

    private PairedBootstrap() {}

    /**
     * The difference and its interval.
     *
     * @param mean the mean of a − b over all seeds and questions
     * @param lo   lower end of the 95 % percentile interval
     * @param hi   upper end
     */
    public record Interval(double mean, double lo, double hi, int seeds, int questions, int replicates) {
        /** Whether the interval excludes 0. */
        public boolean excludesZero() {
            return lo > 0 || hi < 0;
        }
    }

    /** {@link #B} replicates with {@link #RNG_SEED}. */
    public static Interval of(double[][] a, double[][] b) {
        return of(a, b, B, RNG_SEED);
    }

    /** As {@link #of(double[][], double[][])} with {@code replicates} and {@code rngSeed}. */
    public static Interval of(double[][] a, double[][] b, int replicates, long rngSeed) {
        int s = a.length;
        if (s == 0 || b.length != s) throw new IllegalArgumentException("need the same number (>= 1) of seed rows, got " + s + " and " + b.length);
        int q = a[0].length;
        if (q == 0) throw new IllegalArgumentException("no questions");
        if (replicates < 1) throw new IllegalArgumentException("replicates must be >= 1, got " + replicates);
        double[][] d = new double[s][q];
        double total = 0;
        for (int i = 0; i < s; i++) {
            if (a[i].length != q || b[i].length != q) throw new IllegalArgumentException("seed row " + i + " has another number of questions");
            for (int j = 0; j < q; j++) {
                if (!Double.isFinite(a[i][j]) || !Double.isFinite(b[i][j])) throw new IllegalArgumentException("non-finite score at seed " + i + ", question " + j);
                d[i][j] = a[i][j] - b[i][j];
                total += d[i][j];
            }
        }
        Random rnd = new Random(rngSeed);
        double[] stats = new double[replicates];
        int[] seeds = new int[s];
        for (int r = 0; r < replicates; r++) {
            for (int i = 0; i < s; i++) seeds[i] = rnd.nextInt(s);
            double sum = 0;
            for (int j = 0; j < q; j++) {
                int question = rnd.nextInt(q);
                for (int i = 0; i < s; i++) sum += d[seeds[i]][question];
            }
            stats[r] = sum / ((double) s * q);
        }
        Arrays.sort(stats);
        int lo = (int) Math.floor(0.025 * replicates), hi = (int) Math.ceil(0.975 * replicates) - 1;
        return new Interval(total / ((double) s * q), stats[lo], stats[Math.max(lo, hi)], s, q, replicates);
    }

    /** Mean and sample standard deviation (n − 1; 0 for one value) of {@code values}. */
    public static double[] meanStd(double[] values) {
        if (values.length == 0) throw new IllegalArgumentException("no values");
        double m = 0;
        for (double v : values) m += v;
        m /= values.length;
        if (values.length == 1) return new double[] {m, 0};
        double ss = 0;
        for (double v : values) ss += (v - m) * (v - m);
        return new double[] {m, Math.sqrt(ss / (values.length - 1))};
    }
}
