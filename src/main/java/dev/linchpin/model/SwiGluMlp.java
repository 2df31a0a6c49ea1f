package dev.linchpin.model;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The feed-forward block: {@code down(silu(gate(x)) * up(x))}, with biases only for Llama's mlp_bias. */
final class SwiGluMlp {
    private final Tensor gate, up, down, gateBias, upBias, downBias;

    SwiGluMlp(int layer, Map<String, Tensor> params) {
        String p = "model.layers." + layer + ".mlp.";
        gate = params.get(p + "gate_proj.weight");
        up = params.get(p + "up_proj.weight");
        down = params.get(p + "down_proj.weight");
        gateBias = params.get(p + "gate_proj.bias");
        upBias = params.get(p + "up_proj.bias");
        downBias = params.get(p + "down_proj.bias");
    }

    static void declare(ModelConfig c, int layer, Map<String, long[]> out) {
        String p = "model.layers." + layer + ".mlp.";
        long d = c.hiddenSize(), f = c.intermediateSize();
        out.put(p + "gate_proj.weight", new long[] {f, d});
        out.put(p + "up_proj.weight", new long[] {f, d});
        out.put(p + "down_proj.weight", new long[] {d, f});
        if (c.mlpBias()) {
            out.put(p + "gate_proj.bias", new long[] {f});
            out.put(p + "up_proj.bias", new long[] {f});
            out.put(p + "down_proj.bias", new long[] {d});
        }
    }

    Tensor forward(Tensor x) {
        Tensor g = torch.silu(Attention.linear(x, gate, gateBias));
        return Attention.linear(g.mul(Attention.linear(x, up, upBias)), down, downBias);
    }
}
