package dev.linchpin.model;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * One transformer block. Pre-norm (Llama, Qwen2, Qwen3):
 * {@code h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h))}.
 * Post-norm branches (OLMo-2):
 * {@code h = x + post_attention_layernorm(attn(x)); out = h + post_feedforward_layernorm(mlp(h))}.
 */
final class DecoderLayer {
    private final ModelConfig config;
    private final Attention attention;
    private final SwiGluMlp mlp;
    private final Tensor firstNorm, secondNorm;

    DecoderLayer(ModelConfig config, int layer, Map<String, Tensor> params) {
        this.config = config;
        this.attention = new Attention(config, layer, params);
        this.mlp = new SwiGluMlp(layer, params);
        String p = "model.layers." + layer + ".";
        if (config.family().postNorm()) {
            firstNorm = params.get(p + "post_attention_layernorm.weight");
            secondNorm = params.get(p + "post_feedforward_layernorm.weight");
        } else {
            firstNorm = params.get(p + "input_layernorm.weight");
            secondNorm = params.get(p + "post_attention_layernorm.weight");
        }
    }

    Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache cache) {
        double eps = config.rmsNormEps();
        boolean f32 = config.family().float32NormAndRope();
        if (config.family().postNorm()) {
            Tensor h = x.add(RmsNorm.apply(attention.forward(x, cos, sin, mask, cache), firstNorm, eps, f32));
            return h.add(RmsNorm.apply(mlp.forward(h), secondNorm, eps, f32));
        }
        Tensor h = x.add(attention.forward(RmsNorm.apply(x, firstNorm, eps, f32), cos, sin, mask, cache));
        return h.add(mlp.forward(RmsNorm.apply(h, secondNorm, eps, f32)));
    }
}
