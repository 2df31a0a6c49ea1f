package dev.linchpin.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The RoPE frequency tables against hand computations of the formulas in transformers. */
class RotaryEmbeddingTest {
    static {
        TorchTesting.seed("rope");
    }

    @Test
    void llama31TableMatchesTheFormulaByHand() {
        // Llama-3.1 8B: head_dim 128, θ = 500000, factor 8, low 1, high 4, original context 8192.
        RopeParameters r = RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 8192);
        try (PointerScope scope = new PointerScope()) {
            Tensor table = RotaryEmbedding.inverseFrequencies(128, r);
            assertEquals(64, table.numel());
            int kept = 0, divided = 0, smoothed = 0;
            for (int i = 0; i < 64; i++) {
                double f = 1.0 / Math.pow(500000.0, 2.0 * i / 128);
                double wavelen = 2 * Math.PI / f;
                double expected;
                if (wavelen < 8192 / 4.0) { expected = f; kept++; }
                else if (wavelen > 8192 / 1.0) { expected = f / 8; divided++; }
                else {
                    double s = (8192 / wavelen - 1) / (4 - 1);
                    expected = (1 - s) * f / 8 + s * f;
                    smoothed++;
                }
                double actual = table.get(i).item_double();
                assertEquals(expected, actual, 2e-6 * expected, "frequency " + i);
            }
            assertTrue(kept > 0 && divided > 0 && smoothed > 0, "all three bands exercised: " + kept + "/" + divided + "/" + smoothed);
            // Spot values: i = 0 is never scaled; the lowest frequency is divided by the factor.
            assertEquals(1.0, table.get(0).item_double(), 0);
            assertEquals(Math.pow(500000.0, -126.0 / 128) / 8, table.get(63).item_double(), 1e-6 * table.get(63).item_double());
        }
    }

    @Test
    void defaultTableIsInverseThetaPowers() {
        try (PointerScope scope = new PointerScope()) {
            Tensor table = RotaryEmbedding.inverseFrequencies(16, RopeParameters.standard(10000.0));
            for (int i = 0; i < 8; i++) {
                double expected = Math.pow(10000.0, -2.0 * i / 16);
                assertEquals(expected, table.get(i).item_double(), 1e-6 * expected);
            }
        }
    }
}
