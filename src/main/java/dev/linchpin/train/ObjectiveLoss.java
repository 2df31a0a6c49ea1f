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

    /**
     * Runs the model and the kernel. Call {@link MaskedCeResult#backward()} on the result.
     *
     * @param dft           rescale each weight by the detached probability of its target
     * @param kernelThreads loss-kernel CPU threads (1 = fixed summation order, bit-reproducible)
     */
    public static MaskedCeResult compute(CausalLM model, WeightedBatch batch, boolean dft, int kernelThreads) {
        Tensor ids = batch.inputIds().to(model.device(), ScalarType.Long);
        Tensor h = model.hidden(ids, null);
        Tensor flat = h.view(batch.rows() * batch.columns(), h.size(2));
        Tensor y = batch.targets().to(model.device(), ScalarType.Long);
        Tensor w = batch.weights().to(model.device(), ScalarType.Float);
        MaskedCeOptions options = MaskedCeOptions.defaults().withThreads(kernelThreads);
        if (dft) {
            MaskedCeResult probe = MaskedLinearCrossEntropy.compute(flat.detach(), model.lmHeadWeight().detach(), y, w, 1.0,
                    options.withGrads(false, false).withLogProbs(true));
            w = w.mul(torch.exp(probe.logProbs())).contiguous();   // logp = 0 on unweighted rows, and w = 0 there
        }
        return MaskedLinearCrossEntropy.compute(flat, model.lmHeadWeight(), y, w, batch.denom(), options);
    }
}
