package dev.linchpin.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.model.RopeParameters;

/**
 * Tiny configurations of every family and weights random enough to exercise every parameter; shared by
 * the model tests and the rollout-engine parity tests, so both check the same five architectures.
 */
public final class TinyModels {
    private TinyModels() {}

    /** Tiny configs covering GQA, MHA, tied/untied heads, biases, QK-norm, explicit head_dim and Llama-3 RoPE. */
    public static Map<String, ModelConfig> tinyConfigs() {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("llama", base(ModelFamily.LLAMA).build());
        m.put("llama3-rope-biases", base(ModelFamily.LLAMA).attentionBias(true).mlpBias(true)
                .rope(RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 32)).build());
        m.put("qwen2-tied", base(ModelFamily.QWEN2).tieWordEmbeddings(true).rope(RopeParameters.standard(1000000.0)).build());
        m.put("qwen3-headdim", base(ModelFamily.QWEN3).headDim(24).tieWordEmbeddings(true).build());
        m.put("olmo2-mha", base(ModelFamily.OLMO2).numKvHeads(4).rmsNormEps(1e-5).build());
        return m;
    }

    public static ModelConfig.Builder base(ModelFamily family) {
        return ModelConfig.builder(family).vocabSize(128).hiddenSize(64).intermediateSize(96).numLayers(2)
                .numHeads(4).numKvHeads(2).maxPositionEmbeddings(256).rmsNormEps(1e-6).eosTokenIds(java.util.List.of(2L));
    }

    /**
     * A model whose weights are all random (norm weights 1 ± 0.2, biases ± 0.1, matrices with std 0.15),
     * so that a mistake in any parameter's role shows in the logits.
     */
    public static CausalLM randomModel(ModelConfig config) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : CausalLM.parameterShapes(config).entrySet()) {
            Tensor r = TorchTesting.randn(ScalarType.Float, e.getValue());
            String n = e.getKey();
            if (n.endsWith("norm.weight")) r = r.mul(TorchTesting.s(0.2)).add(TorchTesting.s(1.0));
            else if (n.endsWith(".bias")) r = r.mul(TorchTesting.s(0.1));
            else if (n.contains("embed")) r = r.mul(TorchTesting.s(1.0));
            else r = r.mul(TorchTesting.s(0.15));
            w.put(n, r);
        }
        return CausalLM.fromParameters(config, w);
    }

    public static long[] randomIds(java.util.Random rnd, int n, int vocab) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    public static Tensor batch(long[]... rows) {
        long[] flat = new long[rows.length * rows[0].length];
        for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, flat, r * rows[0].length, rows[0].length);
        return Tensor.create(flat).view(rows.length, rows[0].length);
    }
}
