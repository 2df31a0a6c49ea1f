package dev.linchpin.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The top-entropy selection, its tie rule, the overlap counts and the entropy formula, against hand computations. */
class EntropySelectionTest {
    @Test
    void takesTheHighestEntropiesAscendingAndBreaksTiesByEarlierPosition() {
        double[] h = {0.1, 0.9, 0.5, 0.9, 0.0, 0.5};
        assertEquals(List.of(1, 3), EntropySelection.top(h, 2));
        assertEquals(List.of(1, 2, 3), EntropySelection.top(h, 3));   // 0.5 at 2 and 5: the earlier wins
        assertEquals(List.of(), EntropySelection.top(h, 0));
        assertEquals(List.of(0, 1, 2, 3, 4, 5), EntropySelection.top(h, 6));
        assertThrows(IllegalArgumentException.class, () -> EntropySelection.top(h, 7));
        assertThrows(IllegalArgumentException.class, () -> EntropySelection.top(new double[] {Double.NaN}, 1));
    }

    @Test
    void overlapIsPooledOverResponses() {
        // response 1 (n = 4): C = {0, 2}, E = {2, 3}; response 2 (n = 5): C = {1}, E = {1}
        EntropySelection.Overlap o = EntropySelection.Overlap.none().plus(List.of(0, 2), List.of(2, 3), 4).plus(List.of(1), List.of(1), 5);
        assertEquals(3, o.critical());
        assertEquals(2, o.intersection());
        assertEquals(4, o.union());   // {0, 2, 3} and {1}
        assertEquals(0.5, o.jaccard(), 1e-15);
        assertEquals(2.0 / 3, o.criticalAlsoHighEntropy(), 1e-15);
        assertEquals((2.0 * 2 / 4 + 1.0 * 1 / 5) / 3, o.chanceFraction(), 1e-15);
        assertEquals(2, o.responses());
    }

    @Test
    void entropyMatchesTheDefinition() {
        float[] x = {1.5f, -0.25f, 3f, 0f, 2f};
        double z = 0;
        for (float v : x) z += Math.exp(v);
        double expected = 0;
        for (float v : x) {
            double p = Math.exp(v) / z;
            expected -= p * Math.log(p);
        }
        assertEquals(expected, EntropyMasks.entropy(x, 0, x.length), 1e-12);
        assertEquals(Math.log(4), EntropyMasks.entropy(new float[] {9f, 7f, 7f, 7f, 7f}, 1, 4), 1e-12);   // uniform over 4
    }
}
