package dev.linchpin.engine;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.model.RopeParameters;
import dev.linchpin.testing.TorchTesting;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Tiny models of every family (GQA, MHA, biases, QK-norm, tied heads, Llama-3 RoPE) with fully random weights. */
final class EngineTesting {
    private EngineTesting() {}

    static Map<String, ModelConfig> tinyConfigs() {
        Map<String, ModelConfig> m = new LinkedHashMap<>();
        m.put("llama", base(ModelFamily.LLAMA).build());
        m.put("llama3-rope-biases", base(ModelFamily.LLAMA).attentionBias(true).mlpBias(true)
                .rope(RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 32)).build());
        m.put("qwen2-tied", base(ModelFamily.QWEN2).tieWordEmbeddings(true).rope(RopeParameters.standard(1000000.0)).build());
        m.put("qwen3-headdim", base(ModelFamily.QWEN3).headDim(24).tieWordEmbeddings(true).build());
        m.put("olmo2-mha", base(ModelFamily.OLMO2).numKvHeads(4).rmsNormEps(1e-5).build());
        return m;
    }

    static ModelConfig.Builder base(ModelFamily family) {
        return ModelConfig.builder(family).vocabSize(128).hiddenSize(64).intermediateSize(96).numLayers(2)
                .numHeads(4).numKvHeads(2).maxPositionEmbeddings(256).rmsNormEps(1e-6).eosTokenIds(List.of(2L));
    }

    /** Norm weights 1 ± 0.2, biases ± 0.1, matrices std 0.15, embeddings std 1: every parameter matters. */
    static CausalLM randomModel(ModelConfig config) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : CausalLM.parameterShapes(config).entrySet()) {
            Tensor r = TorchTesting.randn(ScalarType.Float, e.getValue());
            String n = e.getKey();
            if (n.endsWith("norm.weight")) r = r.mul(TorchTesting.s(0.2)).add(TorchTesting.s(1.0));
            else if (n.endsWith(".bias")) r = r.mul(TorchTesting.s(0.1));
            else if (!n.contains("embed")) r = r.mul(TorchTesting.s(0.15));
            w.put(n, r);
        }
        return CausalLM.fromParameters(config, w);
    }

    static long[] randomIds(java.util.Random rnd, int n, int vocab) {
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = rnd.nextInt(vocab);
        return ids;
    }

    /** The Java model's logits of one sequence, [T][V] in double. */
    static double[][] javaLogits(CausalLM model, long[] tokens) {
        try (PointerScope scope = new PointerScope()) {
            Tensor l = model.logits(Tensor.create(tokens).view(1, tokens.length), null).get(0).to(ScalarType.Double).contiguous();
            int t = tokens.length, v = model.config().vocabSize();
            double[] flat = new double[t * v];
            new DoublePointer(l.data_ptr()).get(flat);
            double[][] out = new double[t][];
            for (int i = 0; i < t; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return out;
        }
    }

    static long[] concat(long[] a, int aLength, long... b) {
        long[] out = java.util.Arrays.copyOf(a, aLength + b.length);
        System.arraycopy(b, 0, out, aLength, b.length);
        return out;
    }
}
