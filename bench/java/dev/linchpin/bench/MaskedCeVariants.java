package dev.linchpin.bench;

import dev.linchpin.kernels.CpuBlas;
import dev.linchpin.kernels.MaskedCeOptions;
import dev.linchpin.kernels.MaskedLinearCrossEntropy;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The ways of computing a masked LM-head cross-entropy, forward + backward, that the benchmark and the
 * memory probe compare on identical inputs:
 * <ul>
 *   <li>{@code fused}: Linchpin's kernel (compacts, never materialises all logits);</li>
 *   <li>{@code eager}: libtorch from Java, full logits [N, V] → cross_entropy with ignore_index on masked
 *       rows (a diagnostic: users run PyTorch from pip, bench/gpu/peers/masked_ce_peers.py);</li>
 *   <li>{@code compact}: libtorch from Java, index_select the rows with w ≠ 0 → linear → cross_entropy;</li>
 *   <li>{@code gemms}, {@code gemmsmt}: the three-GEMM ceiling: the three sgemm of the compacted shapes
 *       (logits = hc·Wᵀ, dh = G·W, dW += Gᵀ·hc) alone, in the same OpenBLAS with the same threads, split
 *       over threads as the kernel does ({@code gemms}) or threaded by OpenBLAS ({@code gemmsmt}).</li>
 * </ul>
 * All return the loss. As in a training loop, the gradients of h and W accumulate into buffers that
 * persist across calls (autograd's .grad for libtorch, the kernel's weightGradInto buffer for fused),
 * so "extra memory" measures what one step allocates on top of parameters and gradients.
 */
public final class MaskedCeVariants {
    public static final long IGNORE = -100;

    public final long n, d, v;
    public final Tensor h, W, y, w, yIgnore;
    public final double denom;
    private final Tensor hLeaf, wLeaf, dWBuffer;
    private final long chunkBytes;
    private Tensor hc, logits, dhc;   // the gemms variant's operands, made on first use

    public MaskedCeVariants(long n, long d, long v, double density, long seed) {
        this(n, d, v, density, seed, 0);
    }

    /** @param chunkBytes the fused kernel's chunk budget (0: its default) */
    public MaskedCeVariants(long n, long d, long v, double density, long seed, long chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.n = n;
        this.d = d;
        this.v = v;
        torch.manual_seed(seed);
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        h = torch.randn(new long[] {n, d}, f32);
        W = torch.randn(new long[] {v, d}, f32).mul(new Scalar(0.05));
        y = torch.randint(v, new long[] {n}, new TensorOptions(ScalarType.Long));
        // Exactly round(density · n) active rows, at random positions.
        long active = Math.round(density * n);
        Tensor order = torch.randperm(n, new TensorOptions(ScalarType.Long));
        Tensor mask = torch.zeros(new long[] {n}, f32);
        if (active > 0) mask.index_fill_(0, order.slice(0, new org.bytedeco.pytorch.LongOptional(0),
                new org.bytedeco.pytorch.LongOptional(active), 1), new Scalar(1.0));
        w = mask;
        yIgnore = torch.where(mask.ne(new Scalar(0.0)), y, torch.full(new long[] {n}, new Scalar(IGNORE),
                new TensorOptions(ScalarType.Long)));
        denom = Math.max(1, active);
        hLeaf = h.detach().requires_grad_(true);
        wLeaf = W.detach().requires_grad_(true);
        dWBuffer = torch.zeros(new long[] {v, d}, f32);
    }

    public double fused(int threads) {
        var r = MaskedLinearCrossEntropy.compute(h, W, y, w, denom,
                MaskedCeOptions.defaults().withGrads(true, true).withWeightGradInto(dWBuffer).withThreads(threads)
                        .withChunkBytes(chunkBytes));
        return r.lossValue();
    }

    public double eager() {
        Tensor logits = torch.linear(hLeaf, wLeaf);
        Tensor loss = torch.cross_entropy_loss(logits, yIgnore, new TensorOptional(), torch.Reduction.Sum.value, IGNORE, 0.0)
                .div(new Scalar(denom));
        loss.backward();
        return loss.item_double();
    }

    public double compactFirst() {
        Tensor rows = w.ne(new Scalar(0.0)).nonzero().squeeze(1);
        Tensor logits = torch.linear(hLeaf.index_select(0, rows), wLeaf);
        Tensor loss = torch.cross_entropy_loss(logits, y.index_select(0, rows), new TensorOptional(),
                torch.Reduction.Sum.value, IGNORE, 0.0).div(new Scalar(denom));
        loss.backward();
        return loss.item_double();
    }

    /**
     * The three GEMMs of the compacted rows alone, in the kernel's OpenBLAS. {@code split}: as the kernel
     * runs them: rows (logits, dh) and then vocabulary (dW) split over {@code threads} Java threads, each
     * calling OpenBLAS single-threaded. Otherwise one OpenBLAS call per GEMM with {@code threads} OpenBLAS
     * threads. Returns 0.
     */
    public double gemms(int threads, boolean split) {
        if (hc == null) {
            Tensor rows = w.ne(new Scalar(0.0)).nonzero().squeeze(1);
            hc = h.index_select(0, rows).contiguous();
            logits = torch.rand(new long[] {hc.size(0), v}, new TensorOptions(ScalarType.Float)).sub(new Scalar(0.5));
            dhc = torch.zeros(new long[] {hc.size(0), d}, new TensorOptions(ScalarType.Float));
            // Made inside the caller's PointerScope but kept for later calls.
            hc.retainReference();
            logits.retainReference();
            dhc.retainReference();
        }
        int m = (int) hc.size(0), di = (int) d, vi = (int) v;
        FloatPointer pH = hc.data_ptr_float(), pW = W.data_ptr_float(), pZ = logits.data_ptr_float(),
                pDh = dhc.data_ptr_float(), pDW = dWBuffer.data_ptr_float();
        int saved = CpuBlas.threads();
        try {
            if (!split) {
                CpuBlas.setThreads(threads);
                sgemm(false, true, m, vi, di, pH, 0, di, pW, 0, di, 0f, pZ, 0, vi);
                sgemm(false, false, m, di, vi, pZ, 0, vi, pW, 0, di, 0f, pDh, 0, di);
                sgemm(true, false, vi, di, m, pZ, 0, vi, pH, 0, di, 1f, pDW, 0, di);
                return 0.0;
            }
            CpuBlas.setThreads(1);
            parallel(threads, t -> {
                int r0 = (int) ((long) m * t / threads), r1 = (int) ((long) m * (t + 1) / threads);
                if (r1 == r0) return;
                sgemm(false, true, r1 - r0, vi, di, pH, (long) r0 * di, di, pW, 0, di, 0f, pZ, (long) r0 * vi, vi);
                sgemm(false, false, r1 - r0, di, vi, pZ, (long) r0 * vi, vi, pW, 0, di, 0f, pDh, (long) r0 * di, di);
            });
            parallel(threads, t -> {
                int v0 = (int) ((long) vi * t / threads), v1 = (int) ((long) vi * (t + 1) / threads);
                sgemm(true, false, v1 - v0, di, m, pZ, v0, vi, pH, 0, di, 1f, pDW, (long) v0 * di, di);
            });
            return 0.0;
        } finally {
            CpuBlas.setThreads(saved);
        }
    }

    private static void sgemm(boolean transA, boolean transB, int m, int n, int k, FloatPointer a, long aOff, int lda,
                              FloatPointer b, long bOff, int ldb, float beta, FloatPointer c, long cOff, int ldc) {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, m, n, k, 1f,
                new FloatPointer(a).position(aOff), lda, new FloatPointer(b).position(bOff), ldb, beta,
                new FloatPointer(c).position(cOff), ldc);
    }

    /** body(t) for t in [0, threads) on threads Java threads; returns when all are done. */
    private static void parallel(int threads, java.util.function.IntConsumer body) {
        Thread[] workers = new Thread[threads - 1];
        for (int t = 1; t < threads; t++) {
            int id = t;
            workers[t - 1] = new Thread(() -> body.accept(id));
            workers[t - 1].start();
        }
        body.accept(0);
        for (Thread worker : workers) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    public double run(String variant, int threads) {
        return switch (variant) {
            case "fused" -> fused(threads);
            case "eager" -> eager();
            case "compact" -> compactFirst();
            case "gemms" -> gemms(threads, true);
            case "gemmsmt" -> gemms(threads, false);
            default -> throw new IllegalArgumentException("unknown variant " + variant
                    + " (fused|eager|compact|gemms|gemmsmt)");
        };
    }
}
