package dev.linchpin.train;

import dev.linchpin.kernels.MaskedCeOptions;
import dev.linchpin.kernels.MaskedCeResult;
import dev.linchpin.kernels.MaskedLinearCrossEntropy;
import dev.linchpin.model.CausalLM;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The loss of one {@link WeightedBatch} through the fused masked linear-CE kernel.
 *
 * <p>DFT (Wu et al. 2025: loss_t = −sg(p(y_t))·log p(y_t)): the model runs once; the kernel runs
 * twice on its hidden states. The first call is forward-only (no gradients, on detached h) and returns
 * log p(y_t) for every weighted row; the weights become w_t·exp(log p(y_t)), a plain constant tensor, so
 * the probability is detached by construction; the second call computes the loss and gradients with
 * those weights. The extra cost is one more pass of the LM-head GEMM over the weighted rows.
 */
public final class ObjectiveLoss {
    private ObjectiveLoss() {}

    /** {@link #compute(CausalLM, WeightedBatch, boolean, int, Precision)} in fp32. */
    public static MaskedCeResult compute(CausalLM model, WeightedBatch batch, boolean dft, int kernelThreads) {
        return compute(model, batch, dft, kernelThreads, Precision.FP32);
    }

    /**
     * Runs the model and the kernel. Call {@link MaskedCeResult#backward()} on the result.
     *
     * @param dft           rescale each weight by the detached probability of its target
     * @param kernelThreads loss-kernel CPU threads (1 = fixed summation order, bit-reproducible)
     * @param precision     {@link Precision#BF16}: the model's forward runs under bf16 autocast (the
     *                      model's own weights stay as they are); {@link Precision#AUTO} is resolved
     *                      against the model's device
     */
    public static MaskedCeResult compute(CausalLM model, WeightedBatch batch, boolean dft, int kernelThreads, Precision precision) {
        boolean bf16 = precision.resolve(model.device()) == Precision.BF16;
        Tensor ids = batch.inputIds().to(model.device(), ScalarType.Long);
        Tensor h, lmHead = model.lmHeadWeight();
        if (bf16) {
            try (Autocast autocast = Autocast.bf16(model.device())) {
                h = model.hidden(ids, null);
            }
            if (model.device().is_cuda()) {
                // The CUDA kernel reads bf16 h and W and accumulates in fp32. The cast of W is an autograd
                // op, so the kernel's fp32 dW reaches the fp32 master weight through it.
                h = h.to(ScalarType.BFloat16);
                lmHead = lmHead.to(ScalarType.BFloat16);
            } else {
                // The CPU kernel is fp32 only. The forward's matmuls ran in bf16 under autocast; the LM-head
                // GEMM and the softmax of the loss then run in fp32 on the (bf16-rounded) hidden states,
                // the same split PyTorch makes for cross-entropy, which autocast keeps in fp32.
                h = h.to(ScalarType.Float);
            }
        } else {
            h = model.hidden(ids, null);
        }
        Tensor flat = h.view(batch.rows() * batch.columns(), h.size(2));
        Tensor y = batch.targets().to(model.device(), ScalarType.Long);
        Tensor w = batch.weights().to(model.device(), ScalarType.Float);
        MaskedCeOptions options = MaskedCeOptions.defaults().withThreads(kernelThreads);
        if (dft) {
            MaskedCeResult probe = MaskedLinearCrossEntropy.compute(flat.detach(), lmHead.detach(), y, w, 1.0,
                    options.withGrads(false, false).withLogProbs(true));
            w = w.mul(torch.exp(probe.logProbs())).contiguous();   // logp = 0 on unweighted rows, and w = 0 there
        }
        return MaskedLinearCrossEntropy.compute(flat, lmHead, y, w, batch.denom(), options);
    }
}
