package dev.linchpin.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import dev.linchpin.model.safetensors.TensorEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link LoraModel} adapters in Hugging Face PEFT's directory layout, both ways: what
 * {@code PeftModel.save_pretrained} writes and {@code PeftModel.from_pretrained(base, dir)} reads.
 *
 * <ul>
 *   <li>{@code adapter_config.json}: {@code peft_type "LORA"}, {@code task_type "CAUSAL_LM"}, {@code r},
 *       {@code lora_alpha}, {@code target_modules}, no dropout, no bias, no rsLoRA/DoRA, and for trained token
 *       rows {@code trainable_token_indices} (a list when the LM head is tied to the embedding, which PEFT then
 *       ties too; else {@code {"embed_tokens": ids, "lm_head": ids}});
 *   <li>{@code adapter_model.safetensors}: {@code base_model.model.<module>.lora_A.weight} [r, in] and
 *       {@code .lora_B.weight} [out, r] per adapted linear layer ({@code <module>} is the Hugging Face module
 *       name, e.g. {@code model.layers.0.self_attn.q_proj}); for token rows
 *       {@code base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta} [k, D] (and
 *       {@code lm_head}'s when untied). Despite its name PEFT stores the rows' new values there (it
 *       {@code index_copy}s them into the matrix); Linchpin trains a delta on the base rows, so it writes
 *       {@code E[ids] + Δ} and reads back {@code Δ = values − E[ids]}.
 * </ul>
 * Same math on both sides: {@code W + (lora_alpha / r)·B·A}. Reading refuses, naming the file and the field
 * or tensor, what Linchpin's LoRA does not compute: rsLoRA, DoRA, per-module rank or alpha patterns, biases,
 * {@code modules_to_save}, fan-in/fan-out layouts, modules that are not linear projections of the base, and
 * misshapen or non-finite tensors.
 */
public final class PeftAdapters {
    /** The adapter's directory name beside the merged {@code final/} of a training run. */
    public static final String DIR = "adapter";
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private static final String PREFIX = "base_model.model.";
    private static final String TOKEN_DELTA = ".token_adapter.trainable_tokens_delta";
    private static final String EMBED = "model.embed_tokens", LM_HEAD = "lm_head";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftAdapters() {}

    /**
     * The trainer's export hook: {@code outDir/adapter/} in PEFT's layout, written in a temporary sibling and
     * renamed into place, so a killed run never leaves half an adapter. {@code base_model_name_or_path} is left
     * null: the trainer does not know where its base came from.
     */
    public static void exportBeside(LoraModel lora, Path outDir, Path tokenizerDirOrNull) throws IOException {
        Path target = outDir.resolve(DIR), tmp = outDir.resolve(".tmp-" + DIR);
        Checkpoints.deleteTree(tmp);
        save(lora, tmp, null, tokenizerDirOrNull);
        Checkpoints.deleteTree(target);
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Writes {@code lora} to {@code dir} in PEFT's layout, atomically per file. The tokenizer files of
     * {@code tokenizerDirOrNull} are copied too (PEFT ignores them; with tokens added to the vocabulary a user
     * needs them to resize the base before loading).
     *
     * @param baseModelNameOrPathOrNull recorded as {@code base_model_name_or_path} (null: unknown)
     */
    public static void save(LoraModel lora, Path dir, String baseModelNameOrPathOrNull, Path tokenizerDirOrNull) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        TreeSet<String> targets = new TreeSet<>();
        Map<String, Tensor> trained = lora.trainableParameters();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            for (String weight : lora.adaptedWeights()) {
                String module = weight.substring(0, weight.length() - ".weight".length());
                targets.add(module.substring(module.lastIndexOf('.') + 1));
                tensors.put(PREFIX + module + ".lora_A.weight", trained.get(weight + ".lora_A").detach().contiguous());
                tensors.put(PREFIX + module + ".lora_B.weight", trained.get(weight + ".lora_B").detach().contiguous());
            }
            long[] ids = lora.trainableTokenIds();
            boolean tied = lora.base().config().tieWordEmbeddings();
            if (ids.length > 0) {
                Tensor index = Tensor.create(ids).to(lora.base().device(), ScalarType.Long);
                for (String module : tied ? List.of(EMBED) : List.of(EMBED, LM_HEAD)) {
                    Tensor rows = lora.base().namedParameters().get(module + ".weight").index_select(0, index);
                    tensors.put(PREFIX + module + TOKEN_DELTA, rows.add(trained.get(module + ".weight" + LoraModel.TOKEN_ROWS)).detach().contiguous());
                }
            }
            ObjectNode config = JSON.createObjectNode();
            config.put("peft_type", "LORA");
            config.put("task_type", "CAUSAL_LM");
            if (baseModelNameOrPathOrNull == null) config.putNull("base_model_name_or_path");
            else config.put("base_model_name_or_path", baseModelNameOrPathOrNull);
            config.put("r", lora.rank());
            if (lora.alpha() == Math.rint(lora.alpha())) config.put("lora_alpha", (long) lora.alpha());
            else config.put("lora_alpha", lora.alpha());
            ArrayNode t = config.putArray("target_modules");
            targets.forEach(t::add);
            config.put("lora_dropout", 0.0);
            config.put("bias", "none");
            config.put("fan_in_fan_out", false);
            config.put("use_rslora", false);
            config.put("use_dora", false);
            config.put("init_lora_weights", true);
            config.put("inference_mode", true);
            config.putNull("modules_to_save");
            config.putNull("layers_to_transform");
            config.putObject("rank_pattern");
            config.putObject("alpha_pattern");
            if (ids.length == 0) {
                config.putNull("trainable_token_indices");
            } else if (tied) {
                ArrayNode a = config.putArray("trainable_token_indices");
                for (long id : ids) a.add(id);
            } else {
                ObjectNode o = config.putObject("trainable_token_indices");
                for (String key : List.of("embed_tokens", LM_HEAD)) {
                    ArrayNode a = o.putArray(key);
                    for (long id : ids) a.add(id);
                }
            }
            SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
            SafetensorsWriter.writeTextAtomically(dir.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
        }
        if (tokenizerDirOrNull != null) {
            for (String name : CausalLM.TOKENIZER_FILES) {
                Path src = tokenizerDirOrNull.resolve(name);
                if (Files.isRegularFile(src)) SafetensorsWriter.writeBytesAtomically(dir.resolve(name), Files.readAllBytes(src));
            }
        }
    }

    /**
     * Reads a PEFT LoRA directory onto {@code base} (which it leaves unchanged) as a {@link LoraModel}, ready to
     * run or to train further. Tensors are converted to the base's dtype and device.
     *
     * @throws IOException naming the file and the field or tensor for anything Linchpin's LoRA cannot represent
     */
    public static LoraModel load(Path dir, CausalLM base) throws IOException {
        Path configFile = dir.resolve(CONFIG), weightsFile = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(configFile)) throw new IOException(configFile + ": missing (not a PEFT adapter directory)");
        if (!Files.isRegularFile(weightsFile)) throw new IOException(weightsFile + ": missing (PEFT's pickle format adapter_model.bin is not read)");
        JsonNode config;
        try {
            config = JSON.readTree(configFile.toFile());
        } catch (IOException e) {
            throw new IOException(configFile + ": not valid JSON: " + e.getMessage(), e);
        }
        if (config == null || !config.isObject()) throw new IOException(configFile + ": not a JSON object");
        String type = config.path("peft_type").asText("");
        if (!type.equals("LORA")) throw new IOException(configFile + ": peft_type is '" + type + "', only LORA is supported");
        int rank = config.path("r").asInt(0);
        if (rank < 1) throw new IOException(configFile + ": r must be a positive integer, got " + config.get("r"));
        if (!config.path("lora_alpha").isNumber() || !(config.get("lora_alpha").asDouble() > 0)) {
            throw new IOException(configFile + ": lora_alpha must be a positive number, got " + config.get("lora_alpha"));
        }
        double alpha = config.get("lora_alpha").asDouble();
        refuseIf(configFile, config, "use_rslora", v -> v.asBoolean(false), "rsLoRA (alpha/sqrt(r)) is not supported");
        refuseIf(configFile, config, "use_dora", v -> v.asBoolean(false), "DoRA is not supported");
        refuseIf(configFile, config, "fan_in_fan_out", v -> v.asBoolean(false), "fan-in/fan-out weights (GPT-2 Conv1D) are not used by these families");
        refuseIf(configFile, config, "lora_bias", v -> v.asBoolean(false), "LoRA biases are not supported");
        refuseIf(configFile, config, "bias", v -> !v.isNull() && !v.asText().equals("none"), "biases other than \"none\" are not supported");
        refuseIf(configFile, config, "rank_pattern", v -> v.isObject() && v.size() > 0, "per-module ranks are not supported");
        refuseIf(configFile, config, "alpha_pattern", v -> v.isObject() && v.size() > 0, "per-module alphas are not supported");
        refuseIf(configFile, config, "modules_to_save", v -> !v.isNull() && v.size() > 0, "fully trained module copies are not supported");
        refuseIf(configFile, config, "layer_replication", v -> !v.isNull(), "layer replication is not supported");
        long[] tokenIds = tokenIndices(configFile, config.get("trainable_token_indices"), base);

        Map<String, Tensor> weights = base.namedParameters();
        Map<String, Tensor[]> ab = new LinkedHashMap<>();
        Map<String, Tensor> tokenValues = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weightsFile)) {
            List<String> unexpected = new ArrayList<>();
            for (Map.Entry<String, TensorEntry> e : f.tensors().entrySet()) {
                String name = e.getKey();
                if (!name.startsWith(PREFIX)) {
                    unexpected.add(name);
                    continue;
                }
                String rest = name.substring(PREFIX.length());
                if (rest.endsWith(TOKEN_DELTA)) {
                    String module = rest.substring(0, rest.length() - TOKEN_DELTA.length());
                    if (!module.equals(EMBED) && !module.equals(LM_HEAD)) {
                        unexpected.add(name);
                        continue;
                    }
                    if (module.equals(LM_HEAD) && base.config().tieWordEmbeddings()) {
                        throw new IOException(weightsFile + ": tensor '" + name + "': the base model's LM head is tied to the embedding");
                    }
                    if (tokenIds.length == 0) throw new IOException(weightsFile + ": tensor '" + name + "' but " + configFile + " names no trainable_token_indices");
                    long[] expected = {tokenIds.length, base.config().hiddenSize()};
                    tokenValues.put(module + ".weight", loadChecked(f, name, expected, base, weightsFile));
                    continue;
                }
                int slot = rest.endsWith(".lora_A.weight") ? 0 : rest.endsWith(".lora_B.weight") ? 1 : -1;
                if (slot < 0) {
                    unexpected.add(name);
                    continue;
                }
                String module = rest.substring(0, rest.length() - ".lora_A.weight".length());
                String weight = module + ".weight";
                Tensor w = weights.get(weight);
                String leaf = module.substring(module.lastIndexOf('.') + 1);
                if (w == null || w.dim() != 2 || !LoraModel.ALL_TARGETS.contains(leaf)) {
                    throw new IOException(weightsFile + ": tensor '" + name + "' adapts '" + module + "', which is not a linear projection "
                            + LoraModel.ALL_TARGETS + " of the base model");
                }
                long[] expected = slot == 0 ? new long[] {rank, w.size(1)} : new long[] {w.size(0), rank};
                ab.computeIfAbsent(weight, k -> new Tensor[2])[slot] = loadChecked(f, name, expected, base, weightsFile);
            }
            if (!unexpected.isEmpty()) {
                throw new IOException(weightsFile + ": " + unexpected.size() + " tensors that are not LoRA A/B or trainable token rows: "
                        + unexpected.subList(0, Math.min(5, unexpected.size())));
            }
        }
        for (Map.Entry<String, Tensor[]> e : ab.entrySet()) {
            String module = e.getKey().substring(0, e.getKey().length() - ".weight".length());
            if (e.getValue()[0] == null || e.getValue()[1] == null) {
                throw new IOException(weightsFile + ": '" + module + "' has " + (e.getValue()[0] == null ? "lora_B but no lora_A" : "lora_A but no lora_B"));
            }
        }
        if (ab.isEmpty()) throw new IOException(weightsFile + ": no LoRA tensors (base_model.model.<module>.lora_A.weight)");
        if (tokenIds.length > 0 && !tokenValues.containsKey(EMBED + ".weight")) {
            throw new IOException(weightsFile + ": " + configFile.getFileName() + " names trainable_token_indices but there is no '"
                    + PREFIX + EMBED + TOKEN_DELTA + "'");
        }
        if (tokenIds.length > 0 && !base.config().tieWordEmbeddings() && !tokenValues.containsKey(LM_HEAD + ".weight")) {
            throw new IOException(weightsFile + ": the base's LM head is untied and trains its token rows too in Linchpin; '"
                    + PREFIX + LM_HEAD + TOKEN_DELTA + "' is missing");
        }
        Map<String, Tensor> deltas = new LinkedHashMap<>();
        try (NoGradGuard noGrad = new NoGradGuard()) {
            Tensor index = tokenIds.length == 0 ? null : Tensor.create(tokenIds).to(base.device(), ScalarType.Long);
            for (Map.Entry<String, Tensor> e : tokenValues.entrySet()) {
                deltas.put(e.getKey(), e.getValue().sub(weights.get(e.getKey()).index_select(0, index)));
            }
            return new LoraModel(base, rank, alpha, ab, tokenIds, deltas);
        }
    }

    private interface Check {
        boolean refused(JsonNode value);
    }

    private static void refuseIf(Path file, JsonNode config, String field, Check check, String why) throws IOException {
        JsonNode v = config.get(field);
        if (v != null && check.refused(v)) throw new IOException(file + ": " + field + " = " + v + ": " + why);
    }

    /** The token ids of {@code trainable_token_indices}: a list, or one list shared by embed_tokens and lm_head. */
    private static long[] tokenIndices(Path file, JsonNode node, CausalLM base) throws IOException {
        if (node == null || node.isNull()) return new long[0];
        JsonNode list = node;
        if (node.isObject()) {
            JsonNode embed = node.get("embed_tokens"), head = node.get(LM_HEAD);
            if (embed == null || node.size() != (head == null ? 1 : 2)) {
                throw new IOException(file + ": trainable_token_indices " + node + ": only embed_tokens (and lm_head) are supported");
            }
            if (head != null && !head.equals(embed)) {
                throw new IOException(file + ": trainable_token_indices trains other rows of embed_tokens and lm_head; Linchpin trains the same rows of both");
            }
            list = embed;
        }
        if (!list.isArray() || list.isEmpty()) throw new IOException(file + ": trainable_token_indices must be a non-empty list of token ids, got " + node);
        long[] ids = new long[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = list.get(i);
            if (!v.canConvertToLong() || v.asLong() < 0 || v.asLong() >= base.config().vocabSize()) {
                throw new IOException(file + ": trainable_token_indices[" + i + "] = " + v + " is not a token id of the base model (vocabulary "
                        + base.config().vocabSize() + ")");
            }
            ids[i] = v.asLong();
        }
        if (Arrays.stream(ids).distinct().count() != ids.length) throw new IOException(file + ": trainable_token_indices repeats an id: " + list);
        return ids;
    }

    private static Tensor loadChecked(SafetensorsFile f, String name, long[] shape, CausalLM base, Path file) throws IOException {
        TensorEntry entry = f.tensors().get(name);
        if (!Arrays.equals(entry.shape(), shape)) {
            throw new IOException(file + ": tensor '" + name + "' has shape " + Arrays.toString(entry.shape()) + ", expected " + Arrays.toString(shape));
        }
        switch (entry.dtype()) {
            case F32: case F16: case BF16: case F64: break;
            default: throw new IOException(file + ": tensor '" + name + "' has non-float dtype " + entry.dtype());
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor t = f.load(name);
            if (!t.isfinite().all().item_bool()) throw new IOException(file + ": tensor '" + name + "' contains NaN or Inf");
            Tensor out = t.to(base.device(), base.dtype()).contiguous();
            out.retainReference();   // outlives the scope; owned by the LoraModel afterwards
            return out;
        }
    }
}
