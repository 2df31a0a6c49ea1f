package dev.linchpin.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The trainer's data order written again from its specification, for tests that predict per-step numbers
 * (FineTuner's class comment and BatchOrder's): per epoch, a Fisher–Yates shuffle of all example indices
 * driven by one {@code java.util.Random(seed)} (the algorithm {@code Collections.shuffle} documents:
 * from the last position down to the second, swap with a uniformly drawn position at or below it); groups
 * of 16 batches sorted by (length, index) and cut into batches; the epoch's batches shuffled the same way
 * with the same generator; steps take {@code batchSize} indices from the concatenation, crossing into the
 * next epoch when one runs out. Works on arrays and indices only, sharing no code with the trainer.
 */
public final class ReferenceBatchOrder {
    private static final int GROUP_BATCHES = 16;

    private ReferenceBatchOrder() {}

    /** The example indices of each of {@code steps} steps over examples of the given {@code lengths}. */
    public static List<int[]> steps(int[] lengths, int batchSize, long seed, int steps) {
        Random random = new Random(seed);
        int[] stream = new int[0];
        int cursor = 0;
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            int[] batch = new int[batchSize];
            for (int k = 0; k < batchSize; k++) {
                if (cursor == stream.length) {
                    stream = epoch(lengths, batchSize, random);
                    cursor = 0;
                }
                batch[k] = stream[cursor++];
            }
            out.add(batch);
        }
        return out;
    }

    private static int[] epoch(int[] lengths, int batchSize, Random random) {
        int n = lengths.length;
        Integer[] perm = new Integer[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        fisherYates(perm, random);
        List<int[]> batches = new ArrayList<>();
        int group = batchSize * GROUP_BATCHES;
        for (int from = 0; from < n; from += group) {
            Integer[] g = Arrays.copyOfRange(perm, from, Math.min(n, from + group));
            Arrays.sort(g, (a, b) -> lengths[a] != lengths[b] ? Integer.compare(lengths[a], lengths[b]) : Integer.compare(a, b));
            for (int b = 0; b < g.length; b += batchSize) {
                int[] batch = new int[Math.min(batchSize, g.length - b)];
                for (int k = 0; k < batch.length; k++) batch[k] = g[b + k];
                batches.add(batch);
            }
        }
        int[][] shuffled = batches.toArray(new int[0][]);
        fisherYates(shuffled, random);
        int[] order = new int[n];
        int at = 0;
        for (int[] b : shuffled) for (int i : b) order[at++] = i;
        return order;
    }

    private static <T> void fisherYates(T[] a, Random random) {
        for (int i = a.length; i > 1; i--) {
            int j = random.nextInt(i);
            T t = a[i - 1];
            a[i - 1] = a[j];
            a[j] = t;
        }
    }
}
