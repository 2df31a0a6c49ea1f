package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.linchpin.testing.TorchTesting;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The layout of a micro-batch with every response token weighted 1 (plain SFT): shift, response-only weights, right padding. */
class WeightedBatchLayoutTest {
    static {
        TorchTesting.seed("WeightedBatchLayoutTest");
    }

    @Test
    void shiftsTargetsWeightsResponseTokensAndRightPads() {
        // sequence 1: prompt [5 6 7] response [8 9 0]  (L = 6, inputs 5)
        // sequence 2: prompt [4]     response [3 0]    (L = 3, inputs 2, padded to 5 with 1)
        List<WeightedExample> examples = List.of(Objectives.sft(new long[] {5, 6, 7}, new long[] {8, 9, 0}),
                Objectives.sft(new long[] {4}, new long[] {3, 0}));
        WeightedBatch b = WeightedBatch.of(examples, 1, Normalization.TOKEN_MEAN, 5, 2);
        assertArrayEquals(new long[] {2, 5}, b.inputIds().sizes().vec().get());
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, /**/ 4, 3, 1, 1, 1}, longs(b.inputIds()));
        // h[t] predicts x[t+1]: targets are the inputs shifted left by one
        assertArrayEquals(new long[] {6, 7, 8, 9, 0, /**/ 3, 0, 1, 1, 1}, longs(b.targets()));
        // weight 1 where the target is a response token: x[3..6) of row 1, x[1..3) of row 2
        assertArrayEquals(new float[] {0, 0, 1, 1, 1, /**/ 1, 1, 0, 0, 0}, floats(b.weights()));
        assertEquals(5, b.trainableTokens());
        assertEquals(5.0, b.denom(), "token-mean divides by the step's trainable tokens");
    }

    @Test
    void rejectsEmptyInputs() {
        assertThrows(IllegalArgumentException.class, () -> WeightedBatch.of(List.of(), 1, Normalization.TOKEN_MEAN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Objectives.sft(new long[0], new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Objectives.sft(new long[] {1}, new long[0]));
    }

    static long[] longs(Tensor t) {
        Tensor c = t.contiguous();
        long[] out = new long[(int) c.numel()];
        new LongPointer(c.data_ptr()).get(out);
        return out;
    }

    static float[] floats(Tensor t) {
        Tensor c = t.contiguous();
        float[] out = new float[(int) c.numel()];
        new FloatPointer(c.data_ptr()).get(out);
        return out;
    }
}
