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

    Tensor forward(Tensor x) {
        Tensor g = torch.silu(Attention.linear(x, gate, gateBias));
        return Attention.linear(g.mul(Attention.linear(x, up, upBias)), down, downBias);
    }
}
