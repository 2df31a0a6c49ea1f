package dev.linchpin.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The "forking tokens" selection (Wang et al., arXiv 2506.01939) at CFT's density: per response, the
 * {@code m} positions where the base model's next-token entropy is highest, {@code m} being the number
 * of positions CFT marks critical in that response (as the random ablation does). Needs no rollouts: one
 * forward pass of the base over the response ({@link EntropyMasks}).
 *
 * <p>Tie rule: positions are ordered by entropy, highest first, and equal entropies by position, earliest
 * first; the first {@code m} are taken. The result is ascending, like a masks file's {@code critical}.
 */
public final class EntropySelection {
    private EntropySelection() {}

    /** The top-{@code m} positions of {@code entropy} (one value per response position), ascending. */
    public static List<Integer> top(double[] entropy, int m) {
        if (m < 0 || m > entropy.length) throw new IllegalArgumentException("m must be in [0, " + entropy.length + "], got " + m);
        Integer[] order = new Integer[entropy.length];
        for (int i = 0; i < order.length; i++) {
            if (!Double.isFinite(entropy[i])) throw new IllegalArgumentException("entropy at position " + i + " is " + entropy[i]);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> entropy[a] != entropy[b] ? Double.compare(entropy[b], entropy[a]) : Integer.compare(a, b));
        List<Integer> out = new ArrayList<>(Arrays.asList(order).subList(0, m));
        out.sort(null);
        return List.copyOf(out);
    }

    /**
     * How much two selections of the same responses agree, pooled over responses.
     *
     * @param critical     Σ |C| (CFT's critical positions)
     * @param entropy      Σ |E| (the top-entropy positions; equal to Σ |C| at CFT's density)
     * @param intersection Σ |C ∩ E|
     * @param union        Σ |C ∪ E|
     * @param chance       Σ |C|·|E| / n: the intersection expected if E were drawn uniformly (the random ablation)
     * @param responses    responses compared
     */
    public record Overlap(long critical, long entropy, long intersection, long union, double chance, int responses) {
        /** Σ|C ∩ E| / Σ|C ∪ E| (1 when both are empty). */
        public double jaccard() {
            return union == 0 ? 1 : (double) intersection / union;
        }

        /** The fraction of critical tokens that are also top-entropy tokens: Σ|C ∩ E| / Σ|C|. */
        public double criticalAlsoHighEntropy() {
            return critical == 0 ? 0 : (double) intersection / critical;
        }

        /** The same fraction expected by chance (uniform positions at the same density). */
        public double chanceFraction() {
            return critical == 0 ? 0 : chance / critical;
        }

        Overlap plus(Collection<Integer> c, Collection<Integer> e, int n) {
            Set<Integer> both = new HashSet<>(c);
            both.retainAll(new HashSet<>(e));
            Set<Integer> any = new HashSet<>(c);
            any.addAll(e);
            return new Overlap(critical + c.size(), entropy + e.size(), intersection + both.size(), union + any.size(),
                    chance + (n == 0 ? 0 : (double) c.size() * e.size() / n), responses + 1);
        }

        static Overlap none() {
            return new Overlap(0, 0, 0, 0, 0, 0);
        }
    }
}
