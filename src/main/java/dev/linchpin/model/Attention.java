package dev.linchpin.model;

import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Grouped-query self-attention of one decoder layer: q/k/v projections (with the family's biases
 * and QK-norm), RoPE, {@code torch.scaled_dot_product_attention} with {@code enable_gqa} (KV heads
 * shared by groups of query heads, as transformers' repeat_kv), and the output projection.
 */
final class Attention {
    private final ModelConfig config;
    private final int layer;
    private final Tensor wq, wk, wv, wo, bq, bk, bv, bo, qNorm, kNorm;

    Attention(ModelConfig config, int layer, Map<String, Tensor> params) {
        this.config = config;
        this.layer = layer;
        String p = "model.layers." + layer + ".self_attn.";
        wq = params.get(p + "q_proj.weight");
        wk = params.get(p + "k_proj.weight");
        wv = params.get(p + "v_proj.weight");
        wo = params.get(p + "o_proj.weight");
        bq = params.get(p + "q_proj.bias");
        bk = params.get(p + "k_proj.bias");
        bv = params.get(p + "v_proj.bias");
        bo = params.get(p + "o_proj.bias");
        qNorm = params.get(p + "q_norm.weight");
        kNorm = params.get(p + "k_norm.weight");
    }

    /**
     * @param x      [B, T, D]
     * @param cos    [B, T, headDim] float32 (positions already applied)
     * @param mask   boolean [B or 1, 1, T, S] (true = may attend), or null for plain causal attention
     * @param cache  KV cache to append to and attend over, or null
     * @return [B, T, D]
     */
    Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, KvCache cache) {
        long b = x.size(0), t = x.size(1);
        int h = config.numHeads(), kvh = config.numKvHeads(), hd = config.headDim();
        boolean f32 = config.family().float32NormAndRope();
        double eps = config.rmsNormEps();

        Tensor q = linear(x, wq, bq), k = linear(x, wk, bk), v = linear(x, wv, bv);
        ModelFamily.QkNorm qkNorm = config.family().qkNorm();
        if (qkNorm == ModelFamily.QkNorm.FULL_WIDTH) {       // norm over all heads, before the split
            q = RmsNorm.apply(q, qNorm, eps, true);
            k = RmsNorm.apply(k, kNorm, eps, true);
        }
        q = q.view(b, t, h, hd);
        k = k.view(b, t, kvh, hd);
        if (qkNorm == ModelFamily.QkNorm.PER_HEAD) {         // norm per head, before RoPE
            q = RmsNorm.apply(q, qNorm, eps, false);
            k = RmsNorm.apply(k, kNorm, eps, false);
        }
        q = RotaryEmbedding.apply(q.transpose(1, 2), cos, sin, f32);
        k = RotaryEmbedding.apply(k.transpose(1, 2), cos, sin, f32);
        v = v.view(b, t, kvh, hd).transpose(1, 2);
        if (cache != null) {
            Tensor[] kv = cache.append(layer, k, v);
            k = kv[0];
            v = kv[1];
        }
        boolean causal = mask == null && cache == null;
        Tensor attn = torch.scaled_dot_product_attention(q, k, v,
                mask == null ? new TensorOptional() : new TensorOptional(mask), 0.0, causal,
                new DoubleOptional(1.0 / Math.sqrt(hd)), kvh != h);
        return linear(attn.transpose(1, 2).reshape(b, t, (long) h * hd), wo, bo);
    }

    static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return bias == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(bias));
    }
}
