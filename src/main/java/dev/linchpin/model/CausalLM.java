package dev.linchpin.model;

import dev.linchpin.model.safetensors.SafetensorsCheckpoint;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import dev.linchpin.model.safetensors.TensorEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A Llama-family causal language model on libtorch ({@link ModelFamily}), with weights named and
 * shaped exactly as in Hugging Face checkpoints.
 *
 * <p>Forward passes: {@link #hidden} (final-norm hidden states, what the fused CE kernel consumes
 * with {@link #lmHeadWeight()}), {@link #logits}, and {@link #forwardIncremental} with a
 * {@link KvCache}. Attention is causal; {@link #hidden}/{@link #logits} also take a [B, T] padding
 * mask (1 = token, 0 = padding) for left- or right-padded batches: padded keys are never attended to
 * and positions count real tokens only ({@code cumsum(mask) - 1}, as transformers' {@code generate}
 * derives position_ids), so a padded row gives the same logits as the unpadded sequence; outputs at
 * padded positions are meaningless. {@link #forwardIncremental} does not take padding.
 *
 * <p>Parameters do not require grad after loading; call {@link #requiresGrad(boolean)} to train.
 */
public final class CausalLM {
    /** Tokenizer and generation files copied by {@link #save} when a source directory is given. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt",
            "added_tokens.json", "chat_template.jinja");

    /** Largest single safetensors file written by {@link #save} before it shards (transformers' 5 GB default). */
    static final long MAX_SHARD_BYTES = 5_000_000_000L;

    private final ModelConfig config;
    private final Device device;
    private final ScalarType dtype;
    private final Map<String, Tensor> params;
    private final RotaryEmbedding rope;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final Tensor embed, finalNorm, lmHead;

    private CausalLM(ModelConfig config, Map<String, Tensor> params, Device device, ScalarType dtype) {
        this.config = config;
        this.params = Collections.unmodifiableMap(params);
        this.device = device;
        this.dtype = dtype;
        this.rope = new RotaryEmbedding(config.headDim(), config.rope(), device);
        for (int l = 0; l < config.numLayers(); l++) layers.add(new DecoderLayer(config, l, params));
        this.embed = params.get("model.embed_tokens.weight");
        this.finalNorm = params.get("model.norm.weight");
        this.lmHead = config.tieWordEmbeddings() ? embed : params.get("lm_head.weight");
    }

    /** Every parameter name of {@code config} with its shape, in Hugging Face order (lm_head only when untied). */
    public static Map<String, long[]> parameterShapes(ModelConfig config) {
        return ParameterShapes.of(config);
    }

    /**
     * Loads a Hugging Face model directory (config.json + model.safetensors or sharded), converting
     * weights to {@code dtype} on {@code device}. Missing, misshapen, non-float or non-finite tensors
     * and unexpected tensor names are errors naming the directory and the tensor.
     */
    public static CausalLM load(Path hfDir, Device device, ScalarType dtype) throws IOException {
        ModelConfig config = ModelConfig.fromJson(hfDir.resolve("config.json"));
        checkFloatType(dtype);
        Map<String, Tensor> params = new LinkedHashMap<>();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(hfDir)) {
            Map<String, long[]> shapes = ParameterShapes.checkCheckpoint(hfDir, config, ckpt.entries());
            for (String name : shapes.keySet()) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = ckpt.load(name);
                    if (!t.isfinite().all().item_bool()) throw new IOException(hfDir + ": tensor '" + name + "' contains NaN or Inf");
                    params.put(name, Scopes.keep(t.to(device, dtype)));
                }
            }
        }
        return new CausalLM(config, params, device, dtype);
    }

    /**
     * A model with transformers' initialisation: linear and embedding weights ~ N(0, initializer_range),
     * biases 0, norm weights 1; float32 on CPU. The same seed gives the same weights.
     */
    public static CausalLM randomInit(ModelConfig config, long seed) {
        return randomInit(config, seed, new Device("cpu"), ScalarType.Float);
    }

    /** {@link #randomInit(ModelConfig, long)} converted to {@code dtype} on {@code device}. */
    public static CausalLM randomInit(ModelConfig config, long seed, Device device, ScalarType dtype) {
        checkFloatType(dtype);
        Map<String, Tensor> params = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Generator gen = torch.createCPUGenerator(seed);
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            for (Map.Entry<String, long[]> e : parameterShapes(config).entrySet()) {
                String name = e.getKey();
                Tensor t;
                if (name.endsWith("norm.weight")) t = torch.ones(e.getValue(), f32);
                else if (name.endsWith(".bias")) t = torch.zeros(e.getValue(), f32);
                else t = torch.empty(e.getValue(), f32, new MemoryFormatOptional()).normal_(0.0, config.initializerRange(), new GeneratorOptional(gen));
                params.put(name, Scopes.keep(t.to(device, dtype)));
            }
        }
        return new CausalLM(config, params, device, dtype);
    }

    /**
     * Wraps existing weights (e.g. produced by a trainer), checking names and shapes against
     * {@code config}. The tensors are used as they are (not copied); all must share one device and
     * floating dtype.
     */
    public static CausalLM fromParameters(ModelConfig config, Map<String, Tensor> weights) {
        Map<String, long[]> shapes = parameterShapes(config);
        if (!weights.keySet().equals(shapes.keySet())) {
            List<String> missing = new ArrayList<>(shapes.keySet());
            missing.removeAll(weights.keySet());
            List<String> extra = new ArrayList<>(weights.keySet());
            extra.removeAll(shapes.keySet());
            throw new IllegalArgumentException("parameter names do not match " + describe(config) + ": missing " + missing + ", unexpected " + extra);
        }
        Tensor first = weights.get("model.embed_tokens.weight");
        ScalarType dtype = first.scalar_type().intern();
        checkFloatType(dtype);
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            Tensor t = weights.get(e.getKey());
            if (!Arrays.equals(t.sizes().vec().get(), e.getValue())) {
                throw new IllegalArgumentException("'" + e.getKey() + "' has shape " + Arrays.toString(t.sizes().vec().get())
                        + ", expected " + Arrays.toString(e.getValue()));
            }
            if (t.scalar_type().intern() != dtype || !t.device().str().getString().equals(first.device().str().getString())) {
                throw new IllegalArgumentException("'" + e.getKey() + "' is " + t.scalar_type().intern() + " on " + t.device().str().getString()
                        + ", the embedding is " + dtype + " on " + first.device().str().getString());
            }
            params.put(e.getKey(), t);
        }
        return new CausalLM(config, params, first.device(), dtype);
    }

    /**
     * A copy of this model with {@code newVocabSize} token rows, like transformers'
     * {@code resize_token_embeddings(n)} with its default {@code mean_resizing=True} (v4.46+): the original
     * rows are copied bit for bit, each new row of the embedding (and of lm_head when untied) is the mean of
     * the existing rows of that matrix, computed in float64. transformers samples the new rows from
     * N(mean, 1e-9 * covariance); the 1e-9-scaled noise is dropped here so resizing is deterministic (a
     * resumed run rebuilds the same model). config.json's vocab_size is updated; other weights are shared,
     * not copied. Shrinking is refused (it would drop trained rows).
     *
     * @throws IllegalArgumentException if {@code newVocabSize} is below the current vocabulary size
     */
    public CausalLM resizeTokenEmbeddings(int newVocabSize) {
        int old = config.vocabSize();
        if (newVocabSize < old) throw new IllegalArgumentException("cannot shrink the vocabulary from " + old + " to " + newVocabSize);
        if (newVocabSize == old) return this;
        Map<String, Tensor> resized = new LinkedHashMap<>(params);
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            for (String name : List.of("model.embed_tokens.weight", "lm_head.weight")) {
                Tensor w = params.get(name);
                if (w == null) continue;   // tied: lm_head is the embedding
                Tensor mean = w.to(ScalarType.Double).mean(0)
                        .to(dtype).unsqueeze(0).expand(newVocabSize - old, w.size(1));
                resized.put(name, Scopes.keep(torch.cat(new org.bytedeco.pytorch.TensorVector(w.detach(), mean), 0).contiguous()));
            }
        }
        return new CausalLM(config.toBuilder().vocabSize(newVocabSize).build(), resized, device, dtype);
    }

    private static void checkFloatType(ScalarType dtype) {
        ScalarType t = dtype.intern();
        if (t != ScalarType.Float && t != ScalarType.BFloat16 && t != ScalarType.Half && t != ScalarType.Double) {
            throw new IllegalArgumentException("model dtype must be float32, bfloat16, float16 or float64, got " + t);
        }
    }

    private static String describe(ModelConfig c) {
        return c.toString();
    }

    /**
     * Saves in Hugging Face layout: {@code config.json} (torch_dtype set to the weights' dtype),
     * {@code model.safetensors} (sharded with an index above 5 GB), and the tokenizer files found in
     * {@code tokenizerSourceDirOrNull} ({@link #TOKENIZER_FILES}). Every file is written atomically.
     */
    public void save(Path dir, Path tokenizerSourceDirOrNull) throws IOException {
        Files.createDirectories(dir);
        long bytes = 0;
        for (Tensor t : params.values()) bytes += t.nbytes();
        Path index = dir.resolve(SafetensorsWriter.INDEX_FILE), single = dir.resolve("model.safetensors");
        if (bytes <= MAX_SHARD_BYTES) {
            SafetensorsWriter.write(single, params, Map.of("format", "pt"));
            Files.deleteIfExists(index);         // a stale index would shadow the new file
        } else {
            SafetensorsWriter.writeSharded(dir, params, Map.of("format", "pt"), MAX_SHARD_BYTES);
            Files.deleteIfExists(single);
        }
        ModelConfig saved = config.toBuilder().torchDtype(torchDtypeName(dtype)).build();
        SafetensorsWriter.writeTextAtomically(dir.resolve("config.json"), saved.toJson());
        if (tokenizerSourceDirOrNull != null) {
            if (!Files.isDirectory(tokenizerSourceDirOrNull)) throw new IOException(tokenizerSourceDirOrNull + ": tokenizer source is not a directory");
            for (String name : TOKENIZER_FILES) {
                Path src = tokenizerSourceDirOrNull.resolve(name), dst = dir.resolve(name);
                if (Files.isRegularFile(src) && !(Files.exists(dst) && Files.isSameFile(src, dst))) {
                    SafetensorsWriter.writeBytesAtomically(dst, Files.readAllBytes(src));
                }
            }
        }
    }

    static String torchDtypeName(ScalarType t) {
        switch (t.intern()) {
            case BFloat16: return "bfloat16";
            case Half: return "float16";
            case Double: return "float64";
            default: return "float32";
        }
    }

    /**
     * Final-norm hidden states [B, T, D] (before the LM head).
     *
     * @param inputIds            [B, T] int64 token ids in [0, vocab_size), on the model's device
     * @param attentionMaskOrNull [B, T] padding mask (1 = token, 0 = padding), or null for none
     */
    public Tensor hidden(Tensor inputIds, Tensor attentionMaskOrNull) {
        checkIds(inputIds);
        return Scopes.run(() -> {
            long b = inputIds.size(0), t = inputIds.size(1);
            Tensor positions, mask = null;
            if (attentionMaskOrNull == null) {
                positions = torch.arange(new Scalar(t), new TensorOptions(ScalarType.Long).device(new DeviceOptional(device))).unsqueeze(0);
            } else {
                Tensor valid = checkMask(attentionMaskOrNull, b, t);
                positions = valid.to(ScalarType.Long).cumsum(1).sub(new Scalar(1)).clamp_min(new Scalar(0));
                Tensor causal = torch.ones(new long[] {t, t}, new TensorOptions(ScalarType.Bool).device(new DeviceOptional(device))).tril();
                Tensor diagonal = torch.eye(t, new TensorOptions(ScalarType.Bool).device(new DeviceOptional(device)));
                // Padding queries attend to themselves only, so no softmax row is empty (no NaN).
                mask = causal.logical_and(valid.view(b, 1, 1, t)).logical_or(diagonal);
            }
            return run(inputIds, positions, mask, null);
        });
    }

    /** Logits [B, T, V] in the model's dtype; arguments as {@link #hidden}. */
    public Tensor logits(Tensor inputIds, Tensor attentionMaskOrNull) {
        Tensor h = hidden(inputIds, attentionMaskOrNull);
        return Scopes.run(() -> torch.linear(h, lmHead));
    }

    /** A KV cache for up to {@code capacity} positions of {@code batch} sequences. */
    public KvCache newCache(long batch, long capacity) {
        return new KvCache(config, batch, capacity, new TensorOptions(dtype).device(new DeviceOptional(device)));
    }

    /**
     * Runs {@code newIds} [B, T] after the positions already in {@code cache}, appends their keys and
     * values, and returns their logits [B, T, V]. Runs without autograd. Equal (up to rounding) to the
     * matching rows of {@link #logits} on the whole sequence.
     */
    public Tensor forwardIncremental(Tensor newIds, KvCache cache) {
        checkIds(newIds);
        long b = newIds.size(0), t = newIds.size(1);
        cache.checkRoom(b, t);
        long past = cache.length();
        Tensor out = Scopes.run(() -> {
            try (NoGradGuard noGrad = new NoGradGuard()) {
                TensorOptions longs = new TensorOptions(ScalarType.Long).device(new DeviceOptional(device));
                Tensor positions = torch.arange(new Scalar(past), new Scalar(past + t), longs).unsqueeze(0);
                Tensor mask = null;
                if (t > 1) {   // query i (position past+i) sees keys 0..past+i
                    Tensor keyPos = torch.arange(new Scalar(past + t), longs).view(1, past + t);
                    mask = keyPos.le(positions.view(t, 1)).view(1, 1, t, past + t);
                }
                return torch.linear(run(newIds, positions, mask, cache), lmHead);
            }
        });
        cache.advance(t);
        return out;
    }

    private Tensor run(Tensor ids, Tensor positions, Tensor mask, KvCache cache) {
        Tensor x = torch.embedding(embed, ids);
        Tensor[] cs = rope.cosSin(positions);
        for (DecoderLayer layer : layers) x = layer.forward(x, cs[0], cs[1], mask, cache);
        return RmsNorm.apply(x, finalNorm, config.rmsNormEps(), config.family().float32NormAndRope());
    }

    private void checkIds(Tensor ids) {
        if (ids == null || ids.isNull() || !ids.defined()) throw new IllegalArgumentException("inputIds is null");
        if (ids.dim() != 2 || ids.size(1) == 0 || ids.size(0) == 0) {
            throw new IllegalArgumentException("inputIds must be non-empty [B, T], got shape " + Arrays.toString(ids.sizes().vec().get()));
        }
        if (ids.scalar_type().intern() != ScalarType.Long) throw new IllegalArgumentException("inputIds must be int64, got " + ids.scalar_type().intern());
        try (PointerScope scope = new PointerScope()) {
            long min = ids.min().item_long(), max = ids.max().item_long();
            if (min < 0 || max >= config.vocabSize()) {
                throw new IllegalArgumentException("token ids must lie in [0, " + config.vocabSize() + "), got range [" + min + ", " + max + "]");
            }
        }
    }

    private Tensor checkMask(Tensor mask, long b, long t) {
        if (mask.dim() != 2 || mask.size(0) != b || mask.size(1) != t) {
            throw new IllegalArgumentException("attention mask must be [" + b + ", " + t + "], got " + Arrays.toString(mask.sizes().vec().get()));
        }
        Tensor m = mask.to(device, ScalarType.Long);
        if (m.lt(new Scalar(0)).logical_or(m.gt(new Scalar(1))).any().item_bool()) {
            throw new IllegalArgumentException("attention mask must hold only 0 and 1");
        }
        return m.to(ScalarType.Bool);
    }

    /** The LM-head weight [V, D]: the input embedding itself when tied. */
    public Tensor lmHeadWeight() {
        return lmHead;
    }

    /** Parameters by Hugging Face name, in checkpoint order (no lm_head entry when tied). */
    public Map<String, Tensor> namedParameters() {
        return params;
    }

    /** The parameters, for optimizers. */
    public List<Tensor> parameters() {
        return new ArrayList<>(params.values());
    }

    /** Sets requires_grad on every parameter (false after loading). */
    public void requiresGrad(boolean on) {
        try (PointerScope scope = new PointerScope()) {
            for (Tensor t : params.values()) t.requires_grad_(on);
        }
    }

    public ModelConfig config() { return config; }
    public Device device() { return device; }
    public ScalarType dtype() { return dtype; }
}
