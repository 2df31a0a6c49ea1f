package dev.linchpin.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Hugging Face {@code config.json} for one of the supported decoder families ({@link ModelFamily}).
 * Reads both the transformers v4 layout ({@code rope_theta} + {@code rope_scaling}) and the v5
 * layout ({@code rope_parameters}); fields transformers has defaults for get the same defaults
 * (per family). Keys Linchpin does not interpret are kept and written back by {@link #toJson()}.
 * Instances are immutable; build new ones with {@link #builder(ModelFamily)}.
 */
public final class ModelConfig {
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final ModelFamily family;
    private final int vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim;
    private final int maxPositionEmbeddings;
    private final double rmsNormEps, initializerRange;
    private final RopeParameters rope;
    private final boolean tieWordEmbeddings, attentionBias, mlpBias;
    private final Long bosTokenId, padTokenId;
    private final List<Long> eosTokenIds;
    private final String torchDtype;
    private final ObjectNode original;

    private ModelConfig(Builder b) {
        this.family = Objects.requireNonNull(b.family, "family");
        this.vocabSize = positive(b.vocabSize, "vocab_size");
        this.hiddenSize = positive(b.hiddenSize, "hidden_size");
        this.intermediateSize = positive(b.intermediateSize, "intermediate_size");
        this.numLayers = positive(b.numLayers, "num_hidden_layers");
        this.numHeads = positive(b.numHeads, "num_attention_heads");
        this.numKvHeads = positive(b.numKvHeads == 0 ? b.numHeads : b.numKvHeads, "num_key_value_heads");
        int hd = b.headDim != 0 ? b.headDim : family.defaultHeadDim(b.hiddenSize, b.numHeads);
        this.headDim = positive(hd, "head_dim");
        this.maxPositionEmbeddings = positive(b.maxPositionEmbeddings, "max_position_embeddings");
        this.rmsNormEps = Double.isNaN(b.rmsNormEps) ? family.defaultRmsNormEps() : b.rmsNormEps;
        this.initializerRange = b.initializerRange;
        this.rope = b.rope;
        this.tieWordEmbeddings = b.tieWordEmbeddings;
        this.attentionBias = b.attentionBias;
        this.mlpBias = b.mlpBias;
        this.bosTokenId = b.bosTokenId;
        this.padTokenId = b.padTokenId;
        this.eosTokenIds = List.copyOf(b.eosTokenIds);
        this.torchDtype = b.torchDtype;
        this.original = b.original == null ? null : b.original.deepCopy();
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " must be even for RoPE");
        if (!(rmsNormEps > 0) || !(rope.theta() > 0)) throw new IllegalArgumentException("rms_norm_eps and rope_theta must be positive");
        if (rope.isLlama3() && !(rope.factor() > 0 && rope.highFreqFactor() > rope.lowFreqFactor() && rope.lowFreqFactor() > 0
                && rope.originalMaxPositionEmbeddings() > 0)) {
            throw new IllegalArgumentException("llama3 rope_scaling needs factor > 0, high_freq_factor > low_freq_factor > 0 and "
                    + "original_max_position_embeddings > 0: " + rope);
        }
    }

    private static int positive(int v, String name) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be positive, got " + v);
        return v;
    }

    /** A builder with transformers' defaults for {@code family} (sizes must be set). */
    public static Builder builder(ModelFamily family) {
        return new Builder(family);
    }

    /** Reads {@code config.json}; errors name the file and the offending key. */
    public static ModelConfig fromJson(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (IOException e) {
            throw new IOException(configJson + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(configJson + ": " + e.getMessage(), e);
        }
    }

    /** Parses a config.json tree; throws {@link IllegalArgumentException} naming the offending key. */
    public static ModelConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) throw new IllegalArgumentException("config is not a JSON object");
        ModelFamily family = family(root);
        Builder b = new Builder(family);
        b.original = (ObjectNode) root;
        b.vocabSize = requiredInt(root, "vocab_size");
        b.hiddenSize = requiredInt(root, "hidden_size");
        b.intermediateSize = requiredInt(root, "intermediate_size");
        b.numLayers = requiredInt(root, "num_hidden_layers");
        b.numHeads = requiredInt(root, "num_attention_heads");
        b.numKvHeads = optionalInt(root, "num_key_value_heads", 0);
        b.headDim = optionalInt(root, "head_dim", 0);
        b.maxPositionEmbeddings = optionalInt(root, "max_position_embeddings", b.maxPositionEmbeddings);
        b.rmsNormEps = optionalDouble(root, "rms_norm_eps", Double.NaN);
        b.initializerRange = optionalDouble(root, "initializer_range", 0.02);
        b.tieWordEmbeddings = optionalBool(root, "tie_word_embeddings", false);
        b.attentionBias = optionalBool(root, "attention_bias", false);
        b.mlpBias = optionalBool(root, "mlp_bias", false);
        b.bosTokenId = optionalId(root, "bos_token_id");
        b.padTokenId = optionalId(root, "pad_token_id");
        b.eosTokenIds = ids(root, "eos_token_id");
        JsonNode dtype = root.hasNonNull("torch_dtype") ? root.get("torch_dtype") : root.get("dtype");
        b.torchDtype = dtype != null && dtype.isTextual() ? dtype.textValue() : null;
        b.rope = rope(root);

        String act = root.hasNonNull("hidden_act") ? root.get("hidden_act").asText() : "silu";
        if (!act.equals("silu")) throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (only silu)");
        if (optionalBool(root, "use_sliding_window", false)) {
            throw new IllegalArgumentException("use_sliding_window=true is not supported (full attention only)");
        }
        String unsupported = family.unsupportedSetting(root);
        if (unsupported != null) throw new IllegalArgumentException(unsupported);
        return b.build();
    }

    private static ModelFamily family(JsonNode root) {
        JsonNode arch = root.get("architectures");
        if (arch != null && !arch.isNull()) {
            if (!arch.isArray() || arch.isEmpty() || !arch.get(0).isTextual()) {
                throw new IllegalArgumentException("\"architectures\" must be a non-empty array of strings");
            }
            List<String> names = new ArrayList<>();
            for (JsonNode a : arch) {
                names.add(a.asText());
                for (ModelFamily f : ModelFamily.values()) if (f.architecture().equals(a.asText())) return f;
            }
            throw new IllegalArgumentException("unsupported architecture " + names + "; supported: " + ModelFamily.supportedList());
        }
        JsonNode type = root.get("model_type");
        ModelFamily f = type == null ? null : ModelFamily.fromModelType(type.asText());
        if (f == null) {
            throw new IllegalArgumentException("no \"architectures\" and unsupported model_type " + type
                    + "; supported: " + ModelFamily.supportedList());
        }
        return f;
    }

    private static RopeParameters rope(JsonNode root) {
        JsonNode params = root.get("rope_parameters");          // transformers v5
        JsonNode scaling = root.get("rope_scaling");             // transformers v4
        double theta = optionalDouble(root, "rope_theta", 10000.0);
        JsonNode spec = null;
        if (params != null && params.isObject()) {
            if (params.has("full_attention") || params.has("sliding_attention")) {
                throw new IllegalArgumentException("per-layer-type rope_parameters are not supported");
            }
            theta = optionalDouble(params, "rope_theta", theta);
            spec = params;
        } else if (scaling != null && scaling.isObject()) {
            spec = scaling;
        }
        if (spec != null && optionalDouble(spec, "partial_rotary_factor", 1.0) != 1.0 || optionalDouble(root, "partial_rotary_factor", 1.0) != 1.0) {
            throw new IllegalArgumentException("partial_rotary_factor != 1 is not supported");
        }
        String type = spec == null ? "default" : spec.hasNonNull("rope_type") ? spec.get("rope_type").asText()
                : spec.hasNonNull("type") ? spec.get("type").asText() : "default";
        switch (type) {
            case "default":
                return RopeParameters.standard(theta);
            case "llama3":
                return RopeParameters.llama3(theta, requiredDouble(spec, "factor"), requiredDouble(spec, "low_freq_factor"),
                        requiredDouble(spec, "high_freq_factor"), requiredInt(spec, "original_max_position_embeddings"));
            default:
                throw new IllegalArgumentException("rope type '" + type + "' is not supported; supported: default, llama3");
        }
    }

    private static JsonNode number(JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw new IllegalArgumentException("\"" + key + "\" must be a number, got " + v);
        return v;
    }

    private static int requiredInt(JsonNode node, String key) {
        JsonNode v = number(node, key);
        if (v == null) throw new IllegalArgumentException("missing \"" + key + "\"");
        return toInt(v, key);
    }

    private static int optionalInt(JsonNode node, String key, int fallback) {
        JsonNode v = number(node, key);
        return v == null ? fallback : toInt(v, key);
    }

    private static int toInt(JsonNode v, String key) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException("\"" + key + "\" must be an int, got " + v);
        return v.intValue();
    }

    private static double requiredDouble(JsonNode node, String key) {
        JsonNode v = number(node, key);
        if (v == null) throw new IllegalArgumentException("missing \"" + key + "\"");
        return v.doubleValue();
    }

    private static double optionalDouble(JsonNode node, String key, double fallback) {
        JsonNode v = number(node, key);
        return v == null ? fallback : v.doubleValue();
    }

    private static boolean optionalBool(JsonNode node, String key, boolean fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw new IllegalArgumentException("\"" + key + "\" must be true or false, got " + v);
        return v.booleanValue();
    }

    private static Long optionalId(JsonNode node, String key) {
        JsonNode v = number(node, key);
        if (v == null) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new IllegalArgumentException("\"" + key + "\" must be an integer");
        return v.longValue();
    }

    private static List<Long> ids(JsonNode node, String key) {
        JsonNode v = node.get(key);
        List<Long> out = new ArrayList<>();
        if (v == null || v.isNull()) return out;
        if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isIntegralNumber() || !e.canConvertToLong()) throw new IllegalArgumentException("\"" + key + "\" holds " + e);
                out.add(e.longValue());
            }
        } else {
            out.add(optionalId(node, key));
        }
        return out;
    }

    /** This config as config.json text (pretty-printed), keeping any keys it was read with. */
    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJsonTree()) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This config as a JSON tree, in transformers' v4 layout (which v5 and vLLM also read). */
    public ObjectNode toJsonTree() {
        ObjectNode o = original != null ? original.deepCopy() : JsonNodeFactory.instance.objectNode();
        ArrayNode arch = o.putArray("architectures");
        arch.add(family.architecture());
        o.put("model_type", family.modelType());
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("initializer_range", initializerRange);
        o.put("hidden_act", "silu");
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("attention_bias", attentionBias);
        if (family.hasMlpBiasSetting()) o.put("mlp_bias", mlpBias);
        o.put("rope_theta", rope.theta());
        if (rope.isLlama3()) {
            ObjectNode s = o.putObject("rope_scaling");
            s.put("rope_type", "llama3");
            s.put("factor", rope.factor());
            s.put("low_freq_factor", rope.lowFreqFactor());
            s.put("high_freq_factor", rope.highFreqFactor());
            s.put("original_max_position_embeddings", rope.originalMaxPositionEmbeddings());
        } else {
            o.putNull("rope_scaling");
        }
        if (o.has("rope_parameters")) {            // keep a v5 file self-consistent
            ObjectNode p = o.putObject("rope_parameters");
            p.put("rope_type", rope.type());
            p.put("rope_theta", rope.theta());
            if (rope.isLlama3()) p.setAll((ObjectNode) o.get("rope_scaling"));
        }
        putId(o, "bos_token_id", bosTokenId);
        putId(o, "pad_token_id", padTokenId);
        if (eosTokenIds.isEmpty()) o.putNull("eos_token_id");
        else if (eosTokenIds.size() == 1) o.put("eos_token_id", eosTokenIds.get(0));
        else {
            ArrayNode eos = o.putArray("eos_token_id");
            eosTokenIds.forEach(eos::add);
        }
        if (torchDtype != null) o.put("torch_dtype", torchDtype);
        return o;
    }

    private static void putId(ObjectNode o, String key, Long id) {
        if (id == null) o.putNull(key);
        else o.put(key, id);
    }

    public ModelFamily family() { return family; }
    public int vocabSize() { return vocabSize; }
    public int hiddenSize() { return hiddenSize; }
    public int intermediateSize() { return intermediateSize; }
    public int numLayers() { return numLayers; }
    public int numHeads() { return numHeads; }
    public int numKvHeads() { return numKvHeads; }
    /** Per-head dimension (config head_dim, else hidden_size / num_attention_heads; Qwen3 defaults to 128). */
    public int headDim() { return headDim; }
    public int maxPositionEmbeddings() { return maxPositionEmbeddings; }
    public double rmsNormEps() { return rmsNormEps; }
    public double initializerRange() { return initializerRange; }
    public RopeParameters rope() { return rope; }
    public boolean tieWordEmbeddings() { return tieWordEmbeddings; }
    /** attention_bias: bias on q,k,v,o (Llama, Qwen3, OLMo-2). Qwen2 always has q/k/v bias and no o bias. */
    public boolean attentionBias() { return attentionBias; }
    /** Whether gate/up/down projections have biases: config.json's mlp_bias where the family has that setting (Llama). */
    public boolean mlpBias() { return family.hasMlpBiasSetting() && mlpBias; }
    /** bos_token_id or null. */
    public Long bosTokenId() { return bosTokenId; }
    /** pad_token_id or null. */
    public Long padTokenId() { return padTokenId; }
    /** eos_token_id as a list (empty when absent). */
    public List<Long> eosTokenIds() { return eosTokenIds; }
    /** torch_dtype ("float32", "bfloat16", ...) or null. */
    public String torchDtype() { return torchDtype; }

    /** Whether q, k, v projections have a bias. */
    public boolean qkvBias() {
        return family.qkvBias(attentionBias);
    }

    /** Whether the output projection has a bias. */
    public boolean outputBias() {
        return family.outputBias(attentionBias);
    }

    /** A builder pre-filled with this config, for variations. */
    public Builder toBuilder() {
        Builder b = new Builder(family);
        b.vocabSize = vocabSize; b.hiddenSize = hiddenSize; b.intermediateSize = intermediateSize;
        b.numLayers = numLayers; b.numHeads = numHeads; b.numKvHeads = numKvHeads; b.headDim = headDim;
        b.maxPositionEmbeddings = maxPositionEmbeddings; b.rmsNormEps = rmsNormEps; b.initializerRange = initializerRange;
        b.rope = rope; b.tieWordEmbeddings = tieWordEmbeddings; b.attentionBias = attentionBias; b.mlpBias = mlpBias;
        b.bosTokenId = bosTokenId; b.padTokenId = padTokenId; b.eosTokenIds = eosTokenIds; b.torchDtype = torchDtype;
        b.original = original;
        return b;
    }

    @Override
    public String toString() {
        return family.architecture() + "[V=" + vocabSize + " D=" + hiddenSize + " F=" + intermediateSize + " L=" + numLayers
                + " H=" + numHeads + " KV=" + numKvHeads + " hd=" + headDim + " tied=" + tieWordEmbeddings + " rope=" + rope + "]";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private final ModelFamily family;
        private int vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim;
        private int maxPositionEmbeddings = 2048;
        private double rmsNormEps = Double.NaN, initializerRange = 0.02;
        private RopeParameters rope = RopeParameters.standard(10000.0);
        private boolean tieWordEmbeddings, attentionBias, mlpBias;
        private Long bosTokenId, padTokenId;
        private List<Long> eosTokenIds = List.of();
        private String torchDtype = "float32";
        private ObjectNode original;

        private Builder(ModelFamily family) {
            this.family = family;
        }

        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder numLayers(int v) { numLayers = v; return this; }
        public Builder numHeads(int v) { numHeads = v; return this; }
        public Builder numKvHeads(int v) { numKvHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder initializerRange(double v) { initializerRange = v; return this; }
        public Builder rope(RopeParameters v) { rope = Objects.requireNonNull(v); return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }
        public Builder mlpBias(boolean v) { mlpBias = v; return this; }
        public Builder bosTokenId(Long v) { bosTokenId = v; return this; }
        public Builder padTokenId(Long v) { padTokenId = v; return this; }
        public Builder eosTokenIds(List<Long> v) { eosTokenIds = List.copyOf(v); return this; }
        public Builder torchDtype(String v) { torchDtype = v; return this; }

        public ModelConfig build() {
            return new ModelConfig(this);
        }
    }
}
