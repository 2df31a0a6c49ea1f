package dev.linchpin.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * The examples of each optimizer step, in a seeded order. Each epoch is a fresh shuffle of all examples
 * by {@code java.util.Random(seed)}; to waste less compute on padding, the shuffled list is cut into
 * groups of {@link #GROUP_BATCHES} batches, each group is sorted by length (ties by position in the data)
 * and cut into batches, and the batches of the epoch are shuffled again with the same generator (as
 * transformers' {@code group_by_length} sampler does). A batch may span two epochs.
 */
final class BatchOrder<E> {
    static final int GROUP_BATCHES = 16;
    private final List<E> data;
    private final ToIntFunction<E> length;
    private final int batchSize;
    private final Random random;
    private final List<Integer> order = new ArrayList<>();
    private int cursor;

    BatchOrder(List<E> data, ToIntFunction<E> length, int batchSize, long seed) {
        this.data = List.copyOf(data);
        this.length = length;
        this.batchSize = batchSize;
        this.random = new Random(seed);
        reshuffle();
    }

    private void reshuffle() {
        List<Integer> shuffled = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) shuffled.add(i);
        Collections.shuffle(shuffled, random);
        List<List<Integer>> batches = new ArrayList<>();
        int group = batchSize * GROUP_BATCHES;
        for (int from = 0; from < shuffled.size(); from += group) {
            List<Integer> g = new ArrayList<>(shuffled.subList(from, Math.min(shuffled.size(), from + group)));
            g.sort(Comparator.comparingInt((Integer i) -> length.applyAsInt(data.get(i))).thenComparingInt(i -> i));
            for (int b = 0; b < g.size(); b += batchSize) batches.add(g.subList(b, Math.min(g.size(), b + batchSize)));
        }
        Collections.shuffle(batches, random);
        order.clear();
        for (List<Integer> b : batches) order.addAll(b);
        cursor = 0;
    }

    /** The next {@code batchSize} examples. */
    List<E> next() {
        List<E> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize) {
            if (cursor == order.size()) reshuffle();
            batch.add(data.get(order.get(cursor++)));
        }
        return batch;
    }
}
