package dev.linchpin.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The decoder families Linchpin implements, named by their Hugging Face architecture. They share
 * embedding, RoPE, GQA attention and a SwiGLU MLP, and differ in biases, QK-norm, norm placement and
 * a few config defaults. Every difference is a method here: the Java model ({@link ModelConfig},
 * {@link Attention}, {@link DecoderLayer}, {@link SwiGluMlp}) asks the family, nothing compares
 * families, and the rollout engine receives the same facts as flags. A new family is one constant
 * and the answers to these methods.
 */
public enum ModelFamily {
    /** LlamaForCausalLM: pre-norm; optional attention_bias (q,k,v,o) and mlp_bias; Llama-3 rope scaling. */
    LLAMA("LlamaForCausalLM", "llama", 1e-6, QkNorm.NONE, false),
    /** Qwen2ForCausalLM: pre-norm; bias on q/k/v projections only. */
    QWEN2("Qwen2ForCausalLM", "qwen2", 1e-6, QkNorm.NONE, false),
    /** Qwen3ForCausalLM: pre-norm; RMSNorm over head_dim on each q/k head before RoPE (QK-norm). */
    QWEN3("Qwen3ForCausalLM", "qwen3", 1e-6, QkNorm.PER_HEAD, false),
    /** Olmo2ForCausalLM: post-norm residual branches; RMSNorm over the full projected q and k. */
    OLMO2("Olmo2ForCausalLM", "olmo2", 1e-5, QkNorm.FULL_WIDTH, true);

    /** Where a family normalises queries and keys (RMSNorm with learned weights {@code q_norm}, {@code k_norm}). */
    public enum QkNorm {
        /** No QK-norm. */
        NONE,
        /** Over head_dim, on each head after the split and before RoPE (Qwen3); weights [head_dim]. */
        PER_HEAD,
        /** Over the whole projection, before the split into heads (OLMo-2); weights [heads·head_dim]. */
        FULL_WIDTH
    }

    private final String architecture;
    private final String modelType;
    private final double defaultRmsNormEps;
    private final QkNorm qkNorm;
    private final boolean postNorm;

    ModelFamily(String architecture, String modelType, double defaultRmsNormEps, QkNorm qkNorm, boolean postNorm) {
        this.architecture = architecture;
        this.modelType = modelType;
        this.defaultRmsNormEps = defaultRmsNormEps;
        this.qkNorm = qkNorm;
        this.postNorm = postNorm;
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

    /** transformers' head_dim when config.json has none: Qwen3's config class defaults to 128, the others divide. */
    int defaultHeadDim(int hiddenSize, int numHeads) {
        return this == QWEN3 ? 128 : hiddenSize / numHeads;
    }

    /** Whether q/k/v projections carry a bias, given config.json's attention_bias (Qwen2: always). */
    boolean qkvBias(boolean attentionBias) {
        return this == QWEN2 || attentionBias;
    }

    /** Whether o_proj carries a bias, given config.json's attention_bias (Qwen2: never). */
    boolean outputBias(boolean attentionBias) {
        return this != QWEN2 && attentionBias;
    }

    /** Whether config.json's mlp_bias exists for this family (Llama only; the others' MLPs have no bias). */
    boolean hasMlpBiasSetting() {
        return this == LLAMA;
    }

    /** Where queries and keys are normalised. */
    public QkNorm qkNorm() {
        return qkNorm;
    }

    /** True when the residual branches are normalised after the sublayer (OLMo-2). */
    boolean postNorm() {
        return postNorm;
    }

    /**
     * OLMo-2's RMSNorm multiplies by the weight in float32 before casting back; the others cast first.
     * OLMo-2 also applies RoPE in float32 (cos/sin are not cast to the activation dtype).
     */
    boolean float32NormAndRope() {
        return this == OLMO2;
    }

    /**
     * Why this family's implementation cannot run the model {@code config} describes (a setting of this
     * family's config class that changes the computation and is not implemented), or null.
     */
    String unsupportedSetting(JsonNode config) {
        return switch (this) {
            case LLAMA -> {
                JsonNode tp = config.get("pretraining_tp");
                if (tp == null || tp.isNull()) yield null;
                if (!tp.isNumber()) throw new IllegalArgumentException("\"pretraining_tp\" must be a number, got " + tp);
                yield tp.doubleValue() != 1 ? "pretraining_tp != 1 is not supported" : null;
            }
            case OLMO2 -> config.hasNonNull("clip_qkv") ? "clip_qkv is not supported for " + architecture : null;
            case QWEN2, QWEN3 -> null;
        };
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
