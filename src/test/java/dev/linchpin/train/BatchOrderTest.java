package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.linchpin.testing.ReferenceBatchOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The trainer's data order against {@link ReferenceBatchOrder}, written from the specification. */
class BatchOrderTest {
    private static final List<WeightedExample> DATA = TrainTesting.toyExamples(24, 17);

    @Test
    void batchOrderVisitsEveryExampleOncePerEpoch() {
        BatchOrder<WeightedExample> order = new BatchOrder<>(DATA, WeightedExample::length, 5, 9);
        Set<WeightedExample> seen = new HashSet<>();
        List<WeightedExample> firstEpoch = new ArrayList<>();
        while (firstEpoch.size() < DATA.size()) firstEpoch.addAll(order.next());
        seen.addAll(firstEpoch.subList(0, DATA.size()));
        assertEquals(new HashSet<>(DATA), seen, "the first 24 drawn are a permutation of the data");
    }

    /** Sizes that cross epochs mid-batch, single and several length groups, ties in length, batch 1. */
    @Test
    void dealsTheSameStepsAsTheReference() {
        Random rnd = new Random(20261125);
        int[][] shapes = {{24, 5}, {7, 8}, {300, 4}, {1000, 3}, {33, 1}, {50, 16}};
        for (int[] shape : shapes) {
            int n = shape[0], batch = shape[1];
            int[] lengths = new int[n];
            for (int i = 0; i < n; i++) lengths[i] = 3 + rnd.nextInt(6);   // few distinct lengths: many ties
            List<Integer> indices = new ArrayList<>();
            for (int i = 0; i < n; i++) indices.add(i);
            long seed = rnd.nextLong();
            int steps = 3 * n / batch + 7;
            BatchOrder<Integer> order = new BatchOrder<>(indices, i -> lengths[i], batch, seed);
            List<int[]> expected = ReferenceBatchOrder.steps(lengths, batch, seed, steps);
            for (int s = 0; s < steps; s++) {
                int[] got = order.next().stream().mapToInt(Integer::intValue).toArray();
                assertArrayEquals(expected.get(s), got, "n=" + n + " batch=" + batch + " step " + s);
            }
        }
    }
}
