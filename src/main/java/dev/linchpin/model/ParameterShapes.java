package dev.linchpin.model;

import dev.linchpin.model.safetensors.TensorEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters a configuration implies, named and shaped as in Hugging Face checkpoints, and the
 * check of a checkpoint's tensor table against them. Pure Java: shared by the libtorch model
 * ({@link CausalLM}) and the rollout engine's loader, which must run without libtorch.
 */
public final class ParameterShapes {
    private ParameterShapes() {}

    /** Every parameter name of {@code config} with its shape, in Hugging Face order (lm_head only when untied). */
    public static Map<String, long[]> of(ModelConfig config) {
        Map<String, long[]> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", new long[] {config.vocabSize(), config.hiddenSize()});
        for (int l = 0; l < config.numLayers(); l++) layer(config, l, out);
        out.put("model.norm.weight", new long[] {config.hiddenSize()});
        if (!config.tieWordEmbeddings()) out.put("lm_head.weight", new long[] {config.vocabSize(), config.hiddenSize()});
        return out;
    }

    private static void layer(ModelConfig c, int layer, Map<String, long[]> out) {
        String p = "model.layers." + layer + ".";
        long d = c.hiddenSize();
        if (!c.family().postNorm()) out.put(p + "input_layernorm.weight", new long[] {d});
        attention(c, p + "self_attn.", out);
        mlp(c, p + "mlp.", out);
        out.put(p + "post_attention_layernorm.weight", new long[] {d});
        if (c.family().postNorm()) out.put(p + "post_feedforward_layernorm.weight", new long[] {d});
    }

    private static void attention(ModelConfig c, String p, Map<String, long[]> out) {
        long d = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim();
        out.put(p + "q_proj.weight", new long[] {q, d});
        out.put(p + "k_proj.weight", new long[] {kv, d});
        out.put(p + "v_proj.weight", new long[] {kv, d});
        out.put(p + "o_proj.weight", new long[] {d, q});
        if (c.qkvBias()) {
            out.put(p + "q_proj.bias", new long[] {q});
            out.put(p + "k_proj.bias", new long[] {kv});
            out.put(p + "v_proj.bias", new long[] {kv});
        }
        if (c.outputBias()) out.put(p + "o_proj.bias", new long[] {d});
        switch (c.family().qkNorm()) {
            case PER_HEAD -> {
                out.put(p + "q_norm.weight", new long[] {c.headDim()});
                out.put(p + "k_norm.weight", new long[] {c.headDim()});
            }
            case FULL_WIDTH -> {
                out.put(p + "q_norm.weight", new long[] {q});
                out.put(p + "k_norm.weight", new long[] {kv});
            }
            case NONE -> { }
        }
    }

    private static void mlp(ModelConfig c, String p, Map<String, long[]> out) {
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

    /**
     * Checks a checkpoint's tensor table against {@code config}: no tensor the model does not use
     * (RoPE's cached {@code inv_freq} and a tied model's stored {@code lm_head.weight} are tolerated),
     * none missing, every shape as config.json implies, every dtype floating-point. Values are not read.
     *
     * @return the expected parameters with their shapes, in Hugging Face order
     * @throws IOException naming {@code dir} and the first offending tensor
     */
    public static Map<String, long[]> checkCheckpoint(Path dir, ModelConfig config, Map<String, TensorEntry> entries)
            throws IOException {
        Map<String, long[]> shapes = of(config);
        List<String> unexpected = new ArrayList<>();
        for (String name : entries.keySet()) {
            boolean ignorable = name.endsWith(".rotary_emb.inv_freq") || (config.tieWordEmbeddings() && name.equals("lm_head.weight"));
            if (!shapes.containsKey(name) && !ignorable) unexpected.add(name);
        }
        if (!unexpected.isEmpty()) {
            throw new IOException(dir + ": " + unexpected.size() + " tensors not used by " + config.family().architecture()
                    + " (" + describe(config) + "): " + unexpected.subList(0, Math.min(5, unexpected.size())));
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            TensorEntry entry = entries.get(name);
            if (entry == null) {
                throw new IOException(dir + ": missing tensor '" + name + "' (expected shape " + Arrays.toString(e.getValue()) + ")");
            }
            if (!Arrays.equals(entry.shape(), e.getValue())) {
                throw new IOException(dir + ": tensor '" + name + "' has shape " + Arrays.toString(entry.shape())
                        + ", config.json implies " + Arrays.toString(e.getValue()));
            }
            if (!entry.dtype().isFloatingPoint()) {
                throw new IOException(dir + ": tensor '" + name + "' has non-float dtype " + entry.dtype());
            }
        }
        return shapes;
    }

    private static String describe(ModelConfig c) {
        return c.toString();
    }
}
