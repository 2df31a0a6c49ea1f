package dev.linchpin.kernels;

import org.bytedeco.pytorch.Tensor;

/**
 * What {@link MaskedLinearCrossEntropy} should compute besides the loss.
 *
 * @param inputGrad   compute dL/dh; null means "if h requires grad"
 * @param weightGrad  compute dL/dW; null means "if W requires grad"
 * @param logProbs    also return log p(y_i) per row (0 for rows with w_i = 0)
 * @param entropy     also return the entropy of softmax(W h_i) per row (0 for rows with w_i = 0)
 * @param weightGradInto an fp32 [V, D] buffer (same device as W) the weight gradient is accumulated
 *                    into (+=) instead of a fresh one; {@link MaskedCeResult#backward()} then leaves W
 *                    alone, the caller owns the sum
 * @param threads     CPU threads for the kernel's row pass and its OpenBLAS GEMMs (OpenBLAS's thread
 *                    count is set for the call and restored after); 0 means libtorch's intra-op
 *                    thread count
 * @param validate    check target range and weight finiteness on the data (a device sync on CUDA);
 *                    shapes, dtypes, devices and contiguity are always checked
 * @param chunkBytes  memory budget of one chunk of selected rows (their logits, gradient, gathered h
 *                    and dh rows; {@link MaskedLinearCrossEntropy#chunkRowBytes} per row); 0 means the
 *                    device's default: 32 MiB on the CPU (large enough for OpenBLAS to run near its
 *                    peak), 1 GiB on CUDA. A budget below one row is refused.
 */
public record MaskedCeOptions(Boolean inputGrad, Boolean weightGrad, boolean logProbs, boolean entropy,
                              Tensor weightGradInto, int threads, boolean validate, long chunkBytes) {

    public static MaskedCeOptions defaults() {
        return new MaskedCeOptions(null, null, false, false, null, 0, true, 0);
    }

    public MaskedCeOptions withGrads(boolean input, boolean weight) {
        return new MaskedCeOptions(input, weight, logProbs, entropy, weightGradInto, threads, validate, chunkBytes);
    }

    public MaskedCeOptions withLogProbs(boolean on) {
        return new MaskedCeOptions(inputGrad, weightGrad, on, entropy, weightGradInto, threads, validate, chunkBytes);
    }

    public MaskedCeOptions withEntropy(boolean on) {
        return new MaskedCeOptions(inputGrad, weightGrad, logProbs, on, weightGradInto, threads, validate, chunkBytes);
    }

    public MaskedCeOptions withWeightGradInto(Tensor buffer) {
        return new MaskedCeOptions(inputGrad, weightGrad, logProbs, entropy, buffer, threads, validate, chunkBytes);
    }

    public MaskedCeOptions withThreads(int n) {
        return new MaskedCeOptions(inputGrad, weightGrad, logProbs, entropy, weightGradInto, n, validate, chunkBytes);
    }

    public MaskedCeOptions withValidation(boolean on) {
        return new MaskedCeOptions(inputGrad, weightGrad, logProbs, entropy, weightGradInto, threads, on, chunkBytes);
    }

    /** A chunk budget in bytes (0: the device's default). */
    public MaskedCeOptions withChunkBytes(long bytes) {
        return new MaskedCeOptions(inputGrad, weightGrad, logProbs, entropy, weightGradInto, threads, validate, bytes);
    }
}
