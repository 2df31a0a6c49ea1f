package dev.linchpin.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
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

    /**
     * The Java table ({@link RopeParameters#inverseFrequencies}, shared by the model and the engine)
     * against transformers' float32 formula run with libtorch's own ops: equal to within one float32
     * ulp per entry (libtorch's vectorised powf is not always correctly rounded), and mostly bit-equal.
     */
    @Test
    void javaTableIsLibtorchsFloat32FormulaToTheUlp() {
        int entries = 0, equal = 0;
        for (RopeParameters r : new RopeParameters[] {RopeParameters.standard(10000.0), RopeParameters.standard(1000000.0),
                RopeParameters.standard(500000.0), RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 8192),
                RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 32)}) {
            for (int d : new int[] {16, 24, 64, 128}) {
                float[] java = r.inverseFrequencies(d);
                try (PointerScope scope = new PointerScope()) {
                    Tensor ref = libtorchTable(d, r);
                    assertEquals(java.length, ref.numel());
                    for (int i = 0; i < java.length; i++) {
                        float t = (float) ref.get(i).item_double();
                        entries++;
                        if (Float.floatToIntBits(t) == Float.floatToIntBits(java[i])) equal++;
                        assertEquals(t, java[i], Math.ulp(t), r + " d=" + d + " entry " + i);
                    }
                }
            }
        }
        assertTrue(equal >= entries * 0.9, equal + " of " + entries + " bit-equal");
    }

    /** transformers' _compute_default_rope_parameters / _compute_llama3_parameters with libtorch float32 ops. */
    private static Tensor libtorchTable(int headDim, RopeParameters rope) {
        Tensor exponents = torch.arange(new Scalar(0), new Scalar(headDim), new Scalar(2),
                new TensorOptions(ScalarType.Long)).to(ScalarType.Float).div(new Scalar((double) headDim));
        Tensor invFreq = torch.pow(new Scalar(rope.theta()), exponents).reciprocal();
        if (!rope.isLlama3()) return invFreq;
        double factor = rope.factor(), low = rope.lowFreqFactor(), high = rope.highFreqFactor();
        double oldContext = rope.originalMaxPositionEmbeddings();
        double lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
        Tensor wavelen = invFreq.reciprocal().mul(new Scalar(2 * Math.PI));
        Tensor scaled = torch.where(wavelen.gt(new Scalar(lowFreqWavelen)), invFreq.div(new Scalar(factor)), invFreq);
        Tensor smooth = wavelen.reciprocal().mul(new Scalar(oldContext)).sub(new Scalar(low)).div(new Scalar(high - low));
        Tensor smoothed = smooth.neg().add(new Scalar(1.0)).mul(scaled).div(new Scalar(factor)).add(smooth.mul(scaled));
        Tensor medium = wavelen.lt(new Scalar(highFreqWavelen)).logical_not()
                .logical_and(wavelen.gt(new Scalar(lowFreqWavelen)).logical_not());
        return torch.where(medium, smoothed, scaled);
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
