package dev.linchpin.engine;

import dev.linchpin.model.CausalLM;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Helpers of the engine tests; the tiny models of every family come from {@link dev.linchpin.testing.TinyModels}. */
final class EngineTesting {
    private EngineTesting() {}

    /** The Java model's logits of one sequence, [T][V] in double. */
    static double[][] javaLogits(CausalLM model, long[] tokens) {
        try (PointerScope scope = new PointerScope()) {
            Tensor l = model.logits(Tensor.create(tokens).view(1, tokens.length), null).get(0).to(ScalarType.Double).contiguous();
            int t = tokens.length, v = model.config().vocabSize();
            double[] flat = new double[t * v];
            new DoublePointer(l.data_ptr()).get(flat);
            double[][] out = new double[t][];
            for (int i = 0; i < t; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return out;
        }
    }

    /** ‖actual − expected‖ / ‖expected‖ over all rows; actual is row-major [rows, V]. */
    static double relErr(float[] actual, double[][] expected) {
        double num = 0, den = 0;
        int v = expected[0].length;
        for (int r = 0; r < expected.length; r++) {
            for (int i = 0; i < v; i++) {
                double d = actual[r * v + i] - expected[r][i];
                num += d * d;
                den += expected[r][i] * expected[r][i];
            }
        }
        return Math.sqrt(num / den);
    }

    /** ‖actual − expected‖ / ‖expected‖ of two logit arrays of the same layout. */
    static double relErr(float[] actual, float[] expected) {
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    static long[] concat(long[] a, int aLength, long... b) {
        long[] out = java.util.Arrays.copyOf(a, aLength + b.length);
        System.arraycopy(b, 0, out, aLength, b.length);
        return out;
    }
}
