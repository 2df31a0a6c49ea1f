package dev.linchpin.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Root-mean-square layer norm as transformers computes it: in float32,
 * {@code x * rsqrt(mean(x²) + eps)} over the last dimension, then
 * Llama/Qwen: {@code weight * normed.to(inputDtype)}; OLMo-2: {@code (weight * normed).to(inputDtype)}.
 */
final class RmsNorm {
    private RmsNorm() {}

    static Tensor apply(Tensor x, Tensor weight, double eps, boolean weightInFloat32) {
        ScalarType inputType = x.scalar_type().intern();
        Tensor xf = x.to(ScalarType.Float);
        Tensor variance = xf.pow(new Scalar(2.0)).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor normed = xf.mul(torch.rsqrt(variance.add(new Scalar(eps))));
        if (weightInFloat32) return weight.mul(normed).to(inputType);
        return weight.mul(normed.to(inputType));
    }
}
