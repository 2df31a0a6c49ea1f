package dev.linchpin.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The decoder families Linchpin implements, named by their Hugging Face architecture. They share
 * embedding, RoPE, GQA attention and a SwiGLU MLP, and differ in biases, QK-norm and norm placement.
 */
public enum ModelFamily {
    /** LlamaForCausalLM: pre-norm; optional attention_bias (q,k,v,o) and mlp_bias; Llama-3 rope scaling. */
    LLAMA("LlamaForCausalLM", "llama", 1e-6),
    /** Qwen2ForCausalLM: pre-norm; bias on q/k/v projections only. */
    QWEN2("Qwen2ForCausalLM", "qwen2", 1e-6),
    /** Qwen3ForCausalLM: pre-norm; RMSNorm over head_dim on each q/k head before RoPE (QK-norm). */
    QWEN3("Qwen3ForCausalLM", "qwen3", 1e-6),
    /** Olmo2ForCausalLM: post-norm residual branches; RMSNorm over the full projected q and k. */
    OLMO2("Olmo2ForCausalLM", "olmo2", 1e-5);

    private final String architecture;
    private final String modelType;
    private final double defaultRmsNormEps;

    ModelFamily(String architecture, String modelType, double defaultRmsNormEps) {
        this.architecture = architecture;
        this.modelType = modelType;
        this.defaultRmsNormEps = defaultRmsNormEps;
    }

    /** The Hugging Face class name in config.json "architectures". */
    public String architecture() {
        return architecture;
    }

    /** The config.json "model_type". */
    public String modelType() {
        return modelType;
    }

    /** transformers' default rms_norm_eps for this family's config class. */
    double defaultRmsNormEps() {
        return defaultRmsNormEps;
    }

    /** True when q/k/v projections carry a bias regardless of config (Qwen2). */
    boolean alwaysQkvBias() {
        return this == QWEN2;
    }

    /** True when the residual branches are normalised after the sublayer (OLMo-2). */
    boolean postNorm() {
        return this == OLMO2;
    }

    /**
     * OLMo-2's RMSNorm multiplies by the weight in float32 before casting back; the others cast first.
     * OLMo-2 also applies RoPE in float32 (cos/sin are not cast to the activation dtype).
     */
    boolean float32NormAndRope() {
        return this == OLMO2;
    }

    /** The family for an architecture name, or an exception listing the supported ones. */
    public static ModelFamily fromArchitecture(String architecture) {
        for (ModelFamily f : values()) if (f.architecture.equals(architecture)) return f;
        throw new IllegalArgumentException("unsupported architecture '" + architecture + "'; supported: " + supportedList());
    }

    /** The family for a model_type ("llama", ...), or null. */
    static ModelFamily fromModelType(String modelType) {
        for (ModelFamily f : values()) if (f.modelType.equals(modelType)) return f;
        return null;
    }

    /** "LlamaForCausalLM, Qwen2ForCausalLM, ...". */
    public static String supportedList() {
        return Arrays.stream(values()).map(ModelFamily::architecture).collect(Collectors.joining(", "));
    }
}
