package dev.linchpin.kernels;

import static dev.linchpin.testing.TorchTesting.randn;
import static dev.linchpin.testing.TorchTesting.s;
import static dev.linchpin.testing.TorchTesting.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every bad argument gets an IllegalArgumentException naming it, before any native code runs. */
class MaskedLinearCrossEntropyArgumentsTest {
    private static final long N = 6, D = 8, V = 20;
    private PointerScope scope;
    private Tensor h, W, y, w;

    @BeforeEach
    void setUp() {
        TorchTesting.seed("arguments");
        scope = new PointerScope();
        h = randn(ScalarType.Float, N, D);
        W = randn(ScalarType.Float, V, D);
        y = Tensor.create(new long[] {0, 1, 2, 3, 4, 19});
        w = Tensor.create(new float[] {1, 1, 0, 1, 1, 1});
    }

    @AfterEach
    void tearDown() {
        scope.close();
    }

    private static void rejects(String expectedFragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expectedFragment),
                "message '" + e.getMessage() + "' should mention '" + expectedFragment + "'");
    }

    private MaskedCeResult call(Tensor h, Tensor W, Tensor y, Tensor w, double denom) {
        return MaskedLinearCrossEntropy.compute(h, W, y, w, denom);
    }

    @Test
    void validCallWorks() {
        assertTrue(Double.isFinite(call(h, W, y, w, 5.0).lossValue()));
    }

    @Test
    void nullOrUndefinedTensors() {
        rejects("h is null", () -> call(null, W, y, w, 1));
        rejects("W is null", () -> call(h, null, y, w, 1));
        rejects("y is null", () -> call(h, W, null, w, 1));
        rejects("w is null", () -> call(h, W, y, new Tensor(), 1));
        rejects("options is null", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1, null));
    }

    @Test
    void wrongRanks() {
        rejects("h must be 2-D", () -> call(h.reshape(N * D), W, y, w, 1));
        rejects("W must be 2-D", () -> call(h, W.unsqueeze(0), y, w, 1));
        rejects("y must be 1-D", () -> call(h, W, y.unsqueeze(1), w, 1));
        rejects("w must be 1-D", () -> call(h, W, y, w.unsqueeze(0), 1));
    }

    @Test
    void mismatchedSizes() {
        rejects("hidden size D", () -> call(h, randn(ScalarType.Float, V, D + 1), y, w, 1));
        rejects("rows N of h", () -> call(h, W, Tensor.create(new long[] {0, 1}), w, 1));
        rejects("rows N of h", () -> call(h, W, y, Tensor.create(new float[] {1, 1, 1}), 1));
        rejects("D = 0", () -> call(zeros(ScalarType.Float, N, 0), zeros(ScalarType.Float, V, 0), y, w, 1));
        rejects("V = 0", () -> call(h, zeros(ScalarType.Float, 0, D), y, w, 1));
    }

    @Test
    void wrongDtypes() {
        rejects("h has dtype", () -> call(h.to(ScalarType.Double), W.to(ScalarType.Double), y, w, 1));
        rejects("h has dtype", () -> call(h.to(ScalarType.BFloat16), W.to(ScalarType.BFloat16), y, w, 1));
        rejects("W has dtype", () -> call(h, W.to(ScalarType.Double), y, w, 1));
        rejects("y has dtype", () -> call(h, W, y.to(ScalarType.Int), w, 1));
        rejects("w has dtype", () -> call(h, W, y, w.to(ScalarType.Double), 1));
    }

    @Test
    void nonContiguous() {
        Tensor hT = randn(ScalarType.Float, D, N).t();
        rejects("h must be contiguous", () -> call(hT, W, y, w, 1));
        Tensor WT = randn(ScalarType.Float, D, V).t();
        rejects("W must be contiguous", () -> call(h, WT, y, w, 1));
        Tensor yStrided = Tensor.create(new long[] {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}).reshape(N, 2).select(1, 0);
        rejects("y must be contiguous", () -> call(h, W, yStrided, w, 1));
    }

    @Test
    void badDenominator() {
        rejects("denom", () -> call(h, W, y, w, 0.0));
        rejects("denom", () -> call(h, W, y, w, Double.NaN));
        rejects("denom", () -> call(h, W, y, w, Double.POSITIVE_INFINITY));
    }

    @Test
    void nonFiniteWeightNamesTheRow() {
        w.get(4).fill_(s(Double.NaN));
        rejects("w[4]", () -> call(h, W, y, w, 1));
        w.get(4).fill_(s(Double.NEGATIVE_INFINITY));
        rejects("w[4]", () -> call(h, W, y, w, 1));
    }

    @Test
    void targetOutOfRangeNamesTheRow() {
        y.get(5).fill_(s(V));
        rejects("y[5] = 20", () -> call(h, W, y, w, 1));
        y.get(5).fill_(s(-1));
        rejects("y[5] = -1", () -> call(h, W, y, w, 1));
    }

    @Test
    void targetOutOfRangeIsFineWhereTheWeightIsZero() {
        y.get(2).fill_(s(-100));      // w[2] = 0: the row is dropped, its target never read
        h.get(2).fill_(s(Double.NaN));
        assertTrue(Double.isFinite(call(h, W, y, w, 1).lossValue()));
    }

    @Test
    void badWeightGradBuffer() {
        MaskedCeOptions o = MaskedCeOptions.defaults();
        rejects("weightGradInto has size", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1,
                o.withWeightGradInto(zeros(ScalarType.Float, V + 1, D))));
        rejects("weightGradInto has dtype", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1,
                o.withWeightGradInto(zeros(ScalarType.Double, V, D))));
        rejects("weightGradInto must be contiguous", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1,
                o.withWeightGradInto(zeros(ScalarType.Float, D, V).t())));
    }

    @Test
    void nativeChecksAreASecondLineOfDefence() {
        // With data validation off, the native side still refuses a bad target, naming the row.
        y.get(1).fill_(s(V + 5));
        rejects("y[1]=25", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1,
                MaskedCeOptions.defaults().withValidation(false)));
    }

    @Test
    void badThreadsAndChunkBudgets() {
        MaskedCeOptions o = MaskedCeOptions.defaults();
        rejects("threads must be >= 0", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1, o.withThreads(-1)));
        rejects("chunkBytes must be >= 0", () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1, o.withChunkBytes(-1)));
        long row = MaskedLinearCrossEntropy.chunkRowBytes(D, V, ScalarType.Float);
        assertEquals(4 * V + 4 * D + 4 * D, row, "fp32: logits row + gathered h row + dh row");
        rejects("below the " + row + " bytes one row needs",
                () -> MaskedLinearCrossEntropy.compute(h, W, y, w, 1, o.withChunkBytes(row - 1)));
        assertTrue(Double.isFinite(MaskedLinearCrossEntropy.compute(h, W, y, w, 1, o.withChunkBytes(row)).lossValue()),
                "a budget of exactly one row is enough");
        assertEquals(4 * V + 2 * V + 2 * D + 4 * D, MaskedLinearCrossEntropy.chunkRowBytes(D, V, ScalarType.BFloat16),
                "16-bit inputs: the gradient row again in 16 bits, h in 16 bits");
        rejects("unsupported dtype", () -> MaskedLinearCrossEntropy.chunkRowBytes(D, V, ScalarType.Double));
    }

    @Test
    void emptyBatchGivesZeroLoss() {
        MaskedCeResult r = call(zeros(ScalarType.Float, 0, D), W, Tensor.create(new long[0]),
                Tensor.create(new float[0]), 1);
        assertEquals(0.0, r.lossValue());
    }
}
