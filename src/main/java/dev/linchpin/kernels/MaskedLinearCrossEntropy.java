package dev.linchpin.kernels;

import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeLibrary;
import dev.linchpin.nativ.NativeStatus;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Fused masked linear cross-entropy over libtorch tensors:
 * {@code loss = Σ_i w_i · (−log softmax(W h_i)[y_i]) / denom}, with dL/dh and dL/dW in the same call.
 *
 * <p>Rows with {@code w_i = 0} are dropped before the LM-head GEMM and logits are never materialised
 * for all rows (see {@code cpp/include/linchpin.h}). Weights may have any sign. Every argument is
 * checked here before native code runs; violations throw {@link IllegalArgumentException}.
 *
 * <pre>{@code
 * MaskedCeResult r = MaskedLinearCrossEntropy.compute(hidden, lmHead, targets, weights, tokenCount);
 * r.backward();                 // dh flows into the model, dW into lmHead.grad
 * double loss = r.lossValue();
 * }</pre>
 *
 * <p>Both devices compact the rows with {@code w ≠ 0}, then walk them in chunks bounded by
 * {@link MaskedCeOptions#chunkBytes()}: per chunk one vendor GEMM for the logits, one pass per row that
 * turns them into the gradient in place, and two more GEMMs for dh and dW (OpenBLAS on the CPU with the
 * kernel's threads, cuBLAS on CUDA).
 *
 * <p>CPU: h and W fp32. CUDA: fp32, bf16 or fp16 (fp32 accumulation), all tensors on the current
 * device, work enqueued on libtorch's current stream, workspace from libtorch's caching allocator;
 * cuBLAS is loaded at run time and its absence is a {@link dev.linchpin.nativ.LinchpinNativeException}
 * naming the library looked for.
 */
public final class MaskedLinearCrossEntropy {
    private MaskedLinearCrossEntropy() {}

    public static MaskedCeResult compute(Tensor h, Tensor W, Tensor y, Tensor w, double denom) {
        return compute(h, W, y, w, denom, MaskedCeOptions.defaults());
    }

    /**
     * @param h      hidden states [N, D]
     * @param W      LM-head weight [V, D]
     * @param y      targets [N], int64, in [0, V) wherever w ≠ 0
     * @param w      per-token weights [N], fp32, finite; 0 = no loss (row dropped)
     * @param denom  normalisation denominator (e.g. the global count of trained tokens), finite, ≠ 0
     */
    public static MaskedCeResult compute(Tensor h, Tensor W, Tensor y, Tensor w, double denom, MaskedCeOptions options) {
        Problem p = Problem.check(h, W, y, w, denom, options);
        NativeLibrary.ensureLoaded();
        p.checkChunkBudget();
        return p.cuda ? CudaPath.run(p) : runCpu(p);
    }

    /**
     * Bytes of chunk memory one selected row needs, the unit of {@link MaskedCeOptions#chunkBytes()}:
     * its fp32 logits row (turned into the gradient in place), for 16-bit inputs the gradient row again
     * in that dtype, its gathered row of h and its fp32 row of dh.
     *
     * @param dtype Float (the CPU kernel), BFloat16 or Half
     */
    public static long chunkRowBytes(long hiddenSize, long vocabSize, ScalarType dtype) {
        if (hiddenSize < 1 || vocabSize < 1) {
            throw new IllegalArgumentException("need hidden size >= 1 and vocabulary size >= 1, got D=" + hiddenSize
                    + " V=" + vocabSize);
        }
        NativeLibrary.ensureLoaded();
        long bytes = LinchpinNative.lp_masked_linear_ce_row_bytes(hiddenSize, vocabSize, dtypeCode(dtype));
        if (bytes < 0) throw new IllegalArgumentException("sizes D=" + hiddenSize + " V=" + vocabSize + " too large");
        return bytes;
    }

    /** linchpin.h's lp_dtype code of a supported input dtype. */
    static int dtypeCode(ScalarType type) {
        return switch (type) {
            case Float -> LinchpinNative.LP_F32;
            case BFloat16 -> LinchpinNative.LP_BF16;
            case Half -> LinchpinNative.LP_F16;
            default -> throw new IllegalArgumentException("unsupported dtype " + type + " (Float, BFloat16 or Half)");
        };
    }

    private static MaskedCeResult runCpu(Problem p) {
        Tensor loss = torch.zeros(new long[] {}, floatOn(p.h));
        Tensor dh = p.wantDh ? emptyFloat(new long[] {p.N, p.D}, p.h) : null;
        Tensor dW = p.dWInto != null ? p.dWInto : p.wantDW ? torch.zeros(new long[] {p.V, p.D}, floatOn(p.h)) : null;
        Tensor logp = p.options.logProbs() ? emptyFloat(new long[] {p.N}, p.h) : null;
        Tensor entropy = p.options.entropy() ? emptyFloat(new long[] {p.N}, p.h) : null;
        int threads = p.options.threads() > 0 ? p.options.threads() : torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            int status = LinchpinNative.lp_cpu_masked_linear_ce(
                    p.h.data_ptr_float(), p.W.data_ptr_float(), p.y.data_ptr_long(), p.w.data_ptr_float(),
                    p.N, p.D, p.V, p.denom, loss.data_ptr_float(), floats(dh), floats(dW),
                    floats(logp), floats(entropy), threads, p.options.chunkBytes());
            NativeStatus.check(status, "masked linear cross-entropy (CPU)");
        }
        return new MaskedCeResult(loss, p.h, p.W, dh, dW, p.dWInto != null, logp, entropy, p.activeRows);
    }

    private static FloatPointer floats(Tensor t) {
        return t == null ? null : t.data_ptr_float();
    }

    static Tensor emptyFloat(long[] shape, Tensor like) {
        return torch.empty(shape, floatOn(like), new MemoryFormatOptional());
    }

    static TensorOptions floatOn(Tensor like) {
        return new TensorOptions(ScalarType.Float).device(new DeviceOptional(like.device()));
    }

    /** A validated call: shapes, dtypes, devices, contiguity, denominator, weights and targets. */
    static final class Problem {
        Tensor h, W, y, w, dWInto;
        long N, D, V, activeRows = -1;
        double denom;
        boolean cuda, wantDh, wantDW;
        MaskedCeOptions options;

        static Problem check(Tensor h, Tensor W, Tensor y, Tensor w, double denom, MaskedCeOptions options) {
            if (options == null) throw new IllegalArgumentException("options is null");
            TensorChecks.defined(h, "h");
            TensorChecks.defined(W, "W");
            TensorChecks.defined(y, "y");
            TensorChecks.defined(w, "w");
            TensorChecks.rank(h, "h", 2, "[N, D]");
            TensorChecks.rank(W, "W", 2, "[V, D]");
            TensorChecks.rank(y, "y", 1, "[N]");
            TensorChecks.rank(w, "w", 1, "[N]");
            Problem p = new Problem();
            p.h = h;
            p.W = W;
            p.y = y;
            p.w = w;
            p.N = h.size(0);
            p.D = h.size(1);
            p.V = W.size(0);
            p.denom = denom;
            p.options = options;
            if (p.D < 1) throw new IllegalArgumentException("h has hidden size D = 0");
            if (p.V < 1) throw new IllegalArgumentException("W has vocabulary size V = 0");
            TensorChecks.size(W, "W", 1, p.D, "hidden size D of h");
            TensorChecks.size(y, "y", 0, p.N, "rows N of h");
            TensorChecks.size(w, "w", 0, p.N, "rows N of h");
            TensorChecks.sameDevice(W, "W", h, "h");
            TensorChecks.sameDevice(y, "y", h, "h");
            TensorChecks.sameDevice(w, "w", h, "h");
            p.cuda = h.is_cuda();
            if (!p.cuda && !h.is_cpu()) throw new IllegalArgumentException("h is on unsupported device " + h.device().str().getString());
            if (p.cuda) {
                TensorChecks.dtype(h, "h", ScalarType.Float, ScalarType.BFloat16, ScalarType.Half);
            } else {
                TensorChecks.dtype(h, "h", ScalarType.Float);
            }
            TensorChecks.dtype(W, "W", TensorChecks.type(h));
            TensorChecks.dtype(y, "y", ScalarType.Long);
            TensorChecks.dtype(w, "w", ScalarType.Float);
            TensorChecks.contiguous(h, "h");
            TensorChecks.contiguous(W, "W");
            TensorChecks.contiguous(y, "y");
            TensorChecks.contiguous(w, "w");
            if (!Double.isFinite(denom) || denom == 0.0) {
                throw new IllegalArgumentException("denom must be finite and nonzero, got " + denom);
            }
            p.wantDh = options.inputGrad() != null ? options.inputGrad() : h.requires_grad();
            p.wantDW = options.weightGrad() != null ? options.weightGrad() : W.requires_grad();
            if (options.weightGradInto() != null) {
                Tensor buf = options.weightGradInto();
                TensorChecks.defined(buf, "weightGradInto");
                TensorChecks.rank(buf, "weightGradInto", 2, "[V, D]");
                TensorChecks.size(buf, "weightGradInto", 0, p.V, "vocabulary size V of W");
                TensorChecks.size(buf, "weightGradInto", 1, p.D, "hidden size D of W");
                TensorChecks.dtype(buf, "weightGradInto", ScalarType.Float);
                TensorChecks.sameDevice(buf, "weightGradInto", h, "h");
                TensorChecks.contiguous(buf, "weightGradInto");
                p.dWInto = buf;
                p.wantDW = true;
            }
            if (options.threads() < 0) throw new IllegalArgumentException("threads must be >= 0, got " + options.threads());
            if (options.chunkBytes() < 0) {
                throw new IllegalArgumentException("chunkBytes must be >= 0 (0: the device default), got " + options.chunkBytes());
            }
            if (options.validate()) p.checkData();
            return p;
        }

        /** A nonzero chunk budget must hold at least one row (needs the native library for the row size). */
        void checkChunkBudget() {
            long budget = options.chunkBytes();
            if (budget == 0) return;
            long row = chunkRowBytes(D, V, cuda ? TensorChecks.type(h) : ScalarType.Float);
            if (budget < row) {
                throw new IllegalArgumentException("chunkBytes = " + budget + " is below the " + row
                        + " bytes one row needs (D = " + D + ", V = " + V + "); use 0 for the default or at least " + row);
            }
        }

        /** Weights finite everywhere; targets in [0, V) wherever the weight is nonzero. */
        private void checkData() {
            if (N == 0) {
                activeRows = 0;
                return;
            }
            try (PointerScope scope = new PointerScope()) {
                long badWeight = TensorChecks.firstTrue(w.isfinite().logical_not());
                if (badWeight >= 0) {
                    throw new IllegalArgumentException("w[" + badWeight + "] = " + w.get(badWeight).item_double()
                            + " is not finite");
                }
                Tensor active = w.ne(TensorChecks.scalar(0.0));
                Tensor outOfRange = y.lt(TensorChecks.scalar(0)).logical_or(y.ge(TensorChecks.scalar(V)));
                long badTarget = TensorChecks.firstTrue(outOfRange.logical_and(active));
                if (badTarget >= 0) {
                    throw new IllegalArgumentException("y[" + badTarget + "] = " + y.get(badTarget).item_long()
                            + " is outside the vocabulary [0, " + V + ") at a row with nonzero weight");
                }
                activeRows = active.sum().item_long();
            }
        }
    }

    /** The CUDA call, kept apart so CPU-only processes never touch libtorch's CUDA classes. */
    static final class CudaPath {
        private CudaPath() {}

        static MaskedCeResult run(Problem p) {
            CudaBackend.ensureAvailable();
            CudaStreams.requireCurrentDevice(p.h);
            int dtype = dtypeCode(TensorChecks.type(p.h));
            Tensor loss = emptyFloat(new long[] {}, p.h);
            Tensor dh = p.wantDh ? emptyFloat(new long[] {p.N, p.D}, p.h) : null;
            Tensor dW = p.dWInto != null ? p.dWInto : p.wantDW ? torch.zeros(new long[] {p.V, p.D}, floatOn(p.h)) : null;
            Tensor logp = p.options.logProbs() ? emptyFloat(new long[] {p.N}, p.h) : null;
            Tensor entropy = p.options.entropy() ? emptyFloat(new long[] {p.N}, p.h) : null;
            long wsBytes = LinchpinNative.lp_cuda_masked_linear_ce_workspace_size(p.N, p.D, p.V, dtype, p.options.chunkBytes());
            if (wsBytes < 0) throw new IllegalStateException("CUDA backend refused sizes N=" + p.N + " D=" + p.D + " V=" + p.V);
            // Workspace from libtorch's caching allocator: freed back to it when this Tensor dies, safe
            // for reuse on the same stream after the kernels are enqueued.
            Tensor workspace = torch.empty(new long[] {Math.max(1, wsBytes)},
                    new TensorOptions(ScalarType.Byte).device(new DeviceOptional(p.h.device())), new MemoryFormatOptional());
            try (PointerScope scope = new PointerScope()) {
                int status = LinchpinNative.lp_cuda_masked_linear_ce(
                        p.h.data_ptr(), p.W.data_ptr(), dtype, p.y.data_ptr(), p.w.data_ptr(),
                        p.N, p.D, p.V, p.denom, loss.data_ptr(), ptr(dh), ptr(dW), ptr(logp), ptr(entropy),
                        workspace.data_ptr(), wsBytes, p.options.chunkBytes(), CudaStreams.current(p.h));
                NativeStatus.check(status, "masked linear cross-entropy (CUDA)");
            }
            return new MaskedCeResult(loss, p.h, p.W, dh, dW, p.dWInto != null, logp, entropy, p.activeRows);
        }

        private static Pointer ptr(Tensor t) {
            return t == null ? null : t.data_ptr();
        }
    }
}
