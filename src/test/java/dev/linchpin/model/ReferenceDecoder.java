package dev.linchpin.model;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * An independent float64 re-implementation of the four decoder families, written from transformers'
 * modeling code with plain ops only: matmul + explicit causal mask + softmax (no SDPA), explicit
 * repeat of KV heads, RoPE angles from a Java double formula, RMSNorm written out. It shares no code
 * with the model under test beyond reading its weights by Hugging Face name.
 */
final class ReferenceDecoder {
    private final ModelConfig c;
    private final Map<String, Tensor> w = new HashMap<>();

    ReferenceDecoder(ModelConfig config, Map<String, Tensor> params) {
        this.c = config;
        params.forEach((k, v) -> w.put(k, v.detach().to(ScalarType.Double)));
    }

    /** Inverse frequencies from the RoPE / Llama-3.1 formulas, in double. */
    static double[] invFreq(int headDim, RopeParameters r) {
        double[] f = new double[headDim / 2];
        for (int i = 0; i < f.length; i++) {
            double base = 1.0 / Math.pow(r.theta(), (2.0 * i) / headDim);
            if (r.isLlama3()) {
                double wavelen = 2 * Math.PI / base;
                double lowWavelen = r.originalMaxPositionEmbeddings() / r.lowFreqFactor();
                double highWavelen = r.originalMaxPositionEmbeddings() / r.highFreqFactor();
                if (wavelen < highWavelen) {
                    // high frequency: unchanged
                } else if (wavelen > lowWavelen) {
                    base = base / r.factor();
                } else {
                    double smooth = (r.originalMaxPositionEmbeddings() / wavelen - r.lowFreqFactor())
                            / (r.highFreqFactor() - r.lowFreqFactor());
                    base = (1 - smooth) * base / r.factor() + smooth * base;
                }
            }
            f[i] = base;
        }
        return f;
    }

    private Tensor rms(Tensor x, String weight) {
        Tensor ms = x.pow(new Scalar(2.0)).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        return x.div(ms.add(new Scalar(c.rmsNormEps())).sqrt()).mul(w.get(weight));
    }

    private Tensor lin(Tensor x, String prefix) {
        Tensor y = torch.matmul(x, w.get(prefix + ".weight").t());
        Tensor b = w.get(prefix + ".bias");
        return b == null ? y : y.add(b);
    }

    /** Rotates x [T, H, d] at positions 0..T-1 given per-position angle tables (pairs i, i + d/2). */
    private static Tensor rope(Tensor x, Tensor cos, Tensor sin) {
        long half = x.size(-1) / 2;
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);     // [T,1,d/2]
        Tensor r1 = x1.mul(c).sub(x2.mul(s));
        Tensor r2 = x2.mul(c).add(x1.mul(s));
        return torch.cat(new org.bytedeco.pytorch.TensorVector(r1, r2), -1);
    }

    /** Logits [T, V] for one unpadded sequence of ids, in float64. */
    Tensor logits(long[] ids) {
        int t = ids.length, h = c.numHeads(), kv = c.numKvHeads(), hd = c.headDim();
        TensorOptions dbl = new TensorOptions(ScalarType.Double);
        double[] f = invFreq(hd, c.rope());
        double[] angles = new double[t * f.length];
        for (int p = 0; p < t; p++) for (int i = 0; i < f.length; i++) angles[p * f.length + i] = p * f[i];
        Tensor ang = Tensor.create(angles).view(t, f.length);
        Tensor cos = ang.cos(), sin = ang.sin();
        Tensor future = torch.ones(new long[] {t, t}, dbl).triu(1).to(ScalarType.Bool);   // key j > query i

        Tensor x = w.get("model.embed_tokens.weight").index_select(0, Tensor.create(ids));
        boolean post = c.family() == ModelFamily.OLMO2;
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            Tensor in = post ? x : rms(x, p + "input_layernorm.weight");
            Tensor q = lin(in, p + "self_attn.q_proj"), k = lin(in, p + "self_attn.k_proj"), v = lin(in, p + "self_attn.v_proj");
            if (c.family() == ModelFamily.OLMO2) {
                q = rms(q, p + "self_attn.q_norm.weight");
                k = rms(k, p + "self_attn.k_norm.weight");
            }
            q = q.view(t, h, hd);
            k = k.view(t, kv, hd);
            v = v.view(t, kv, hd);
            if (c.family() == ModelFamily.QWEN3) {
                q = rms(q, p + "self_attn.q_norm.weight");
                k = rms(k, p + "self_attn.k_norm.weight");
            }
            q = rope(q, cos, sin);
            k = rope(k, cos, sin);
            // Head i uses KV head i / (h / kv), as transformers' repeat_kv.
            k = torch.repeat_interleave(k, h / kv, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
            v = torch.repeat_interleave(v, h / kv, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
            Tensor qh = q.transpose(0, 1), kh = k.transpose(0, 1), vh = v.transpose(0, 1);        // [H,T,d]
            Tensor scores = torch.matmul(qh, kh.transpose(1, 2)).div(new Scalar(Math.sqrt(hd)))
                    .masked_fill(future, new Scalar(Double.NEGATIVE_INFINITY));
            Tensor attn = torch.matmul(torch.softmax(scores, -1), vh).transpose(0, 1).reshape(t, (long) h * hd);
            Tensor o = lin(attn, p + "self_attn.o_proj");
            Tensor hstate = post ? x.add(rms(o, p + "post_attention_layernorm.weight")) : x.add(o);
            Tensor mlpIn = post ? hstate : rms(hstate, p + "post_attention_layernorm.weight");
            Tensor gate = lin(mlpIn, p + "mlp.gate_proj");
            Tensor silu = gate.mul(torch.sigmoid(gate));
            Tensor m = lin(silu.mul(lin(mlpIn, p + "mlp.up_proj")), p + "mlp.down_proj");
            x = post ? hstate.add(rms(m, p + "post_feedforward_layernorm.weight")) : hstate.add(m);
        }
        x = rms(x, "model.norm.weight");
        Tensor head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : w.get("model.embed_tokens.weight");
        return torch.matmul(x, head.t());
    }
}
