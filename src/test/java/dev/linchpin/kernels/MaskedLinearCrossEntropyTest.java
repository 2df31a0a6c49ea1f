package dev.linchpin.kernels;

import static dev.linchpin.testing.TorchTesting.randn;
import static dev.linchpin.testing.TorchTesting.relErr;
import static dev.linchpin.testing.TorchTesting.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU kernel through its Java facade against the float64 libtorch reference. */
class MaskedLinearCrossEntropyTest {
    private static final double TOL = 1e-4;

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        long[][] shapes = {{1, 16, 7}, {1, 32, 2049}, {17, 24, 4099}, {96, 64, 3000}, {300, 16, 50}, {64, 8, 32000}};
        double[] densities = {1.0, 0.12, 0.01};
        for (long[] shape : shapes) {
            for (double density : densities) {
                all.add(Arguments.of(shape[0], shape[1], shape[2], density, density < 1.0, density < 1.0));
            }
        }
        all.add(Arguments.of(40L, 16L, 100L, 0.0, false, true));   // all weights zero
        return all.stream();
    }

    /** h, W, y, w with the given density; masked rows optionally poisoned with NaN/Inf and bad targets. */
    static Tensor[] inputs(Random rnd, long N, long D, long V, double density, boolean negative, boolean poison) {
        Tensor h = randn(ScalarType.Float, N, D);
        Tensor W = randn(ScalarType.Float, V, D).mul(s(0.5));
        long[] y = new long[(int) N];
        float[] w = new float[(int) N];
        for (int i = 0; i < N; i++) {
            y[i] = rnd.nextInt((int) V);
            boolean active = rnd.nextDouble() < density;
            if (active) {
                w[i] = (float) (negative && rnd.nextBoolean() ? -(rnd.nextDouble() + 0.1) : rnd.nextDouble() + 0.1);
            } else if (poison) {
                y[i] = i % 2 == 0 ? -3 : V + 11;
                h.get(i).fill_(s(i % 3 == 0 ? Double.NaN : Double.POSITIVE_INFINITY));
            }
        }
        return new Tensor[] {h, W, Tensor.create(y), Tensor.create(w)};
    }

    @ParameterizedTest(name = "N={0} D={1} V={2} density={3} negative={4} poison={5}")
    @MethodSource("cases")
    void matchesFloat64Reference(long N, long D, long V, double density, boolean negative, boolean poison) {
        Random rnd = new Random(TorchTesting.seed("masked CE N=" + N + " V=" + V + " density=" + density));
        try (PointerScope scope = new PointerScope()) {
            Tensor[] in = inputs(rnd, N, D, V, density, negative, poison);
            double denom = 0.5 + rnd.nextDouble() * N;
            CeReference ref = new CeReference(in[0], in[1], in[2], in[3], denom);

            Tensor dWStart = randn(ScalarType.Float, V, D);        // the kernel accumulates into it
            Tensor dWBuffer = dWStart.clone();
            MaskedCeResult r = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], denom,
                    MaskedCeOptions.defaults().withGrads(true, true).withLogProbs(true).withEntropy(true)
                            .withWeightGradInto(dWBuffer).withThreads(1 + rnd.nextInt(3)));

            double lossErr = Math.abs(r.lossValue() - ref.loss) / Math.max(1e-6, Math.abs(ref.loss));
            assertTrue(lossErr <= TOL || Math.abs(r.lossValue() - ref.loss) <= 1e-6,
                    "loss " + r.lossValue() + " vs reference " + ref.loss);
            assertTrue(relErr(r.inputGrad(), ref.dh) <= TOL, "dh rel. error " + relErr(r.inputGrad(), ref.dh));
            Tensor dWAdded = r.weightGrad().sub(dWStart);
            assertTrue(relErr(dWAdded, ref.dW) <= TOL || ref.dW.abs().max().item_double() == 0
                    && dWAdded.abs().max().item_double() == 0, "dW rel. error " + relErr(dWAdded, ref.dW));
            assertTrue(relErr(r.logProbs(), ref.logp) <= TOL || ref.logp.abs().max().item_double() == 0
                    && r.logProbs().abs().max().item_double() == 0, "logp rel. error");
            assertTrue(relErr(r.entropy(), ref.entropy) <= TOL || ref.entropy.abs().max().item_double() == 0
                    && r.entropy().abs().max().item_double() == 0, "entropy rel. error");
            assertEquals(in[3].ne(s(0.0)).sum().item_long(), r.activeRows());
        }
    }

    /** Budgets of 1, 3 and 40 rows: many chunks, a short last chunk; all against the float64 reference. */
    @ParameterizedTest(name = "chunk of {0} rows, {1} threads")
    @CsvSource({"1, 1", "1, 3", "3, 2", "40, 1", "40, 3"})
    void chunkBudgetsMatchTheReference(long chunkRows, int threads) {
        Random rnd = new Random(TorchTesting.seed("masked CE chunks of " + chunkRows + " rows"));
        try (PointerScope scope = new PointerScope()) {
            long N = 150, D = 24, V = 2100;
            Tensor[] in = inputs(rnd, N, D, V, 0.6, true, true);
            double denom = 37.5;
            CeReference ref = new CeReference(in[0], in[1], in[2], in[3], denom);
            long budget = chunkRows * MaskedLinearCrossEntropy.chunkRowBytes(D, V, ScalarType.Float);
            MaskedCeResult r = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], denom,
                    MaskedCeOptions.defaults().withGrads(true, true).withLogProbs(true).withEntropy(true)
                            .withThreads(threads).withChunkBytes(budget));
            assertEquals(ref.loss, r.lossValue(), TOL * Math.abs(ref.loss) + 1e-6, "loss");
            assertTrue(relErr(r.inputGrad(), ref.dh) <= TOL, "dh rel. error " + relErr(r.inputGrad(), ref.dh));
            assertTrue(relErr(r.weightGrad(), ref.dW) <= TOL, "dW rel. error " + relErr(r.weightGrad(), ref.dW));
            assertTrue(relErr(r.logProbs(), ref.logp) <= TOL, "logp rel. error");
            assertTrue(relErr(r.entropy(), ref.entropy) <= TOL, "entropy rel. error");
        }
    }

    /** Threads 1, 2 and 3 give the same results to fp32 rounding; the same settings give the same loss bit for bit. */
    @Test
    void threadCountsAgree() {
        Random rnd = new Random(TorchTesting.seed("masked CE threads"));
        try (PointerScope scope = new PointerScope()) {
            long N = 200, D = 32, V = 3001;
            Tensor[] in = inputs(rnd, N, D, V, 0.5, true, false);
            MaskedCeOptions o = MaskedCeOptions.defaults().withGrads(true, true);
            MaskedCeResult one = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], 11.0, o.withThreads(1));
            for (int threads : new int[] {1, 2, 3}) {
                MaskedCeResult r = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], 11.0, o.withThreads(threads));
                MaskedCeResult again = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], 11.0, o.withThreads(threads));
                assertEquals(one.lossValue(), r.lossValue(), 1e-6 * Math.abs(one.lossValue()), threads + " threads: loss");
                assertTrue(relErr(r.inputGrad(), one.inputGrad()) <= 1e-6, threads + " threads: dh");
                assertTrue(relErr(r.weightGrad(), one.weightGrad()) <= 1e-6, threads + " threads: dW");
                assertEquals(Float.floatToIntBits(r.loss().item_float()), Float.floatToIntBits(again.loss().item_float()),
                        threads + " threads: the loss is not repeatable bit for bit");
            }
        }
    }

    /**
     * The kernel sets OpenBLAS's thread count for its own GEMMs and restores it: libtorch keeps its single
     * BLAS thread. Checked against the one libopenblas.so.0 of the process (read from /proc/self/maps).
     */
    @Test
    void openBlasThreadCountIsRestored() throws java.io.IOException {
        Random rnd = new Random(TorchTesting.seed("OpenBLAS threads"));
        int saved = CpuBlas.threads();
        try (PointerScope scope = new PointerScope()) {
            Tensor[] in = inputs(rnd, 64, 16, 500, 1.0, false, false);
            for (int[] c : new int[][] {{1, 2}, {3, 1}, {2, 3}}) {
                CpuBlas.setThreads(c[0]);
                MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], 64.0,
                        MaskedCeOptions.defaults().withGrads(true, true).withThreads(c[1])).lossValue();
                assertEquals(c[0], CpuBlas.threads(),
                        "OpenBLAS threads after a call with " + c[1] + " kernel threads");
            }
        } finally {
            CpuBlas.setThreads(saved);
        }
        java.util.Set<String> libraries = new java.util.TreeSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.contains("libopenblas.so")) libraries.add(line.substring(slash));
        }
        assertEquals(1, libraries.size(), "one OpenBLAS in the process, shared by the kernel and this test: " + libraries);
    }

    @Test
    void backwardFeedsAutogradThroughTheModel() {
        Random rnd = new Random(TorchTesting.seed("backward wiring"));
        try (PointerScope scope = new PointerScope()) {
            long N = 24, D = 16, V = 300;
            // h is not a leaf: it comes from x through a projection, as a model's last hidden state does.
            Tensor x = randn(ScalarType.Float, N, D).requires_grad_(true);
            Tensor P = randn(ScalarType.Float, D, D).mul(s(0.3)).requires_grad_(true);
            Tensor W = randn(ScalarType.Float, V, D).mul(s(0.5)).requires_grad_(true);
            Tensor[] in = inputs(rnd, N, D, V, 0.5, true, false);
            Tensor h = torch.matmul(x, P);
            MaskedCeResult r = MaskedLinearCrossEntropy.compute(h, W, in[2], in[3], 7.0);
            assertNotNull(r.inputGrad(), "h requires grad, so dh is computed by default");
            r.backward(2.0);

            // Reference: the same graph in float64 with libtorch's own ops, scaled by 2.
            Tensor xd = x.detach().to(ScalarType.Double).requires_grad_(true);
            Tensor Pd = P.detach().to(ScalarType.Double).requires_grad_(true);
            Tensor Wd = W.detach().to(ScalarType.Double).requires_grad_(true);
            Tensor hd = torch.matmul(xd, Pd);
            Tensor lsm = torch.log_softmax(torch.matmul(hd, Wd.t()), 1);
            Tensor logp = lsm.gather(1, in[2].unsqueeze(1), false).squeeze(1);
            Tensor loss = in[3].to(ScalarType.Double).mul(logp).sum().neg().div(s(7.0)).mul(s(2.0));
            torch.backward(new org.bytedeco.pytorch.TensorVector(loss), new org.bytedeco.pytorch.TensorVector(),
                    new org.bytedeco.pytorch.BoolOptional(), false, new org.bytedeco.pytorch.TensorVector());

            assertTrue(relErr(x.grad(), xd.grad()) <= TOL, "x.grad rel. error " + relErr(x.grad(), xd.grad()));
            assertTrue(relErr(P.grad(), Pd.grad()) <= TOL, "P.grad rel. error " + relErr(P.grad(), Pd.grad()));
            assertTrue(relErr(W.grad(), Wd.grad()) <= TOL, "W.grad rel. error " + relErr(W.grad(), Wd.grad()));
            assertEquals(loss.item_double() / 2.0, r.lossValue(), 1e-4 * Math.abs(r.lossValue()) + 1e-6);
        }
    }

    @Test
    void backwardTwiceIsRefused() {
        Random rnd = new Random(TorchTesting.seed("backward twice"));
        try (PointerScope scope = new PointerScope()) {
            Tensor[] in = inputs(rnd, 4, 8, 10, 1.0, false, false);
            MaskedCeResult r = MaskedLinearCrossEntropy.compute(in[0].requires_grad_(true), in[1], in[2], in[3], 4.0);
            r.backward();
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, r::backward);
        }
    }

    @Test
    void noGradientsWhenNothingRequiresThem() {
        Random rnd = new Random(TorchTesting.seed("no grads"));
        try (PointerScope scope = new PointerScope()) {
            Tensor[] in = inputs(rnd, 10, 8, 50, 1.0, false, false);
            MaskedCeResult r = MaskedLinearCrossEntropy.compute(in[0], in[1], in[2], in[3], 10.0);
            assertEquals(null, r.inputGrad());
            assertEquals(null, r.weightGrad());
            double ref = new CeReference(in[0], in[1], in[2], in[3], 10.0).loss;
            assertEquals(ref, r.lossValue(), 1e-4 * Math.abs(ref));
        }
    }
}
