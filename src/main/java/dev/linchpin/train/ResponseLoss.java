package dev.linchpin.train;

import dev.linchpin.kernels.MaskedCeOptions;
import dev.linchpin.kernels.MaskedCeResult;
import dev.linchpin.kernels.MaskedLinearCrossEntropy;
import dev.linchpin.model.CausalLM;
import org.bytedeco.pytorch.Tensor;

/**
 * The SFT loss of a {@link ResponseBatch}: the mean over response tokens of −log p(target), computed
 * by the fused masked linear-CE kernel from the model's final hidden states and LM-head weight
 * (logits never materialised). Weights are the batch's 0/1 response mask and the denominator is the
 * batch's response-token count. Later objectives (CFT, DFT) change only the weights.
 */
public final class ResponseLoss {
    private ResponseLoss() {}

    /**
     * Runs the model on the batch and the fused loss on its hidden states. Call
     * {@link MaskedCeResult#backward()} on the result to feed the gradients into the model's parameters.
     *
     * @param kernelThreads CPU threads of the loss kernel (1 makes its dW accumulation order fixed, so
     *                      training is bit-reproducible; 0 = libtorch's thread count)
     */
    public static MaskedCeResult compute(CausalLM model, ResponseBatch batch, int kernelThreads) {
        if (batch.responseTokens() == 0) throw new IllegalArgumentException("batch has no response tokens");
        Tensor ids = batch.inputIds().to(model.device(), org.bytedeco.pytorch.global.torch.ScalarType.Long);
        Tensor h = model.hidden(ids, null);                          // [B, T, D], right padding needs no mask
        Tensor flat = h.view(batch.rows() * batch.columns(), h.size(2)); // row b*T+t predicts token t+1 of row b
        Tensor y = batch.targets().to(model.device(), org.bytedeco.pytorch.global.torch.ScalarType.Long);
        Tensor w = batch.weights().to(model.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float);
        return MaskedLinearCrossEntropy.compute(flat, model.lmHeadWeight(), y, w, batch.responseTokens(),
                MaskedCeOptions.defaults().withThreads(kernelThreads));
    }
}
