package dev.linchpin.train;

import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import dev.linchpin.testing.TinyModels;
import dev.linchpin.testing.TorchTesting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PeftAdapters} on tiny models: the names and config PEFT writes (checked against what PEFT 0.21's
 * {@code save_pretrained} wrote for the same kind of adapter, see tests/fixtures/ecosystem), a save/load round
 * trip that gives the same model, and the refusals. PEFT itself reads and writes these directories in
 * {@code dev.linchpin.ecosystem.PeftParityTest}.
 */
class PeftAdaptersTest {
    @TempDir
    Path tmp;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A LoRA with every tensor random (B and the token deltas too), so a lost or misplaced tensor shows. */
    static LoraModel trainedLora(CausalLM base, long[] tokenIds) {
        LoraModel lora = new LoraModel(base, 4, 8, List.of("q_proj", "v_proj", "down_proj"), 5, tokenIds);
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor t : lora.trainableParameters().values()) t.copy_(TorchTesting.randn(ScalarType.Float, t.sizes().vec().get()).mul(TorchTesting.s(0.2)));
        }
        return lora;
    }

    private static Tensor ids() {
        return TinyModels.batch(new long[] {5, 9, 3, 100, 7, 2, 64, 11}, new long[] {1, 2, 3, 4, 5, 6, 7, 8});
    }

    @Test
    void untiedModelWithTokenRowsRoundTripsInPeftsLayout() throws Exception {
        TorchTesting.seed("peft-untied");
        try (PointerScope scope = new PointerScope()) {
            CausalLM base = TinyModels.randomModel(TinyModels.tinyConfigs().get("llama"));
            LoraModel lora = trainedLora(base, new long[] {7, 100});
            PeftAdapters.save(lora, tmp, "some/base", null);

            JsonNode config = JSON.readTree(tmp.resolve(PeftAdapters.CONFIG).toFile());
            assertEquals("LORA", config.get("peft_type").asText());
            assertEquals("CAUSAL_LM", config.get("task_type").asText());
            assertEquals(4, config.get("r").asInt());
            assertEquals(8, config.get("lora_alpha").asInt());
            assertEquals("some/base", config.get("base_model_name_or_path").asText());
            assertEquals("[\"down_proj\",\"q_proj\",\"v_proj\"]", config.get("target_modules").toString());
            assertEquals("{\"embed_tokens\":[7,100],\"lm_head\":[7,100]}", config.get("trainable_token_indices").toString());
            try (SafetensorsFile f = SafetensorsFile.open(tmp.resolve(PeftAdapters.WEIGHTS))) {
                TreeSet<String> names = new TreeSet<>(f.tensors().keySet());
                assertEquals(2 * 3 * 2 + 2, names.size(), names.toString());
                assertTrue(names.contains("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"), names.toString());
                assertTrue(names.contains("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"), names.toString());
                assertTrue(names.contains("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta"), names.toString());
                assertTrue(names.contains("base_model.model.lm_head.token_adapter.trainable_tokens_delta"), names.toString());
                assertArrayEquals(new long[] {4, 64}, f.tensors().get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape());
                assertArrayEquals(new long[] {32, 4}, f.tensors().get("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight").shape());
                // PEFT stores the rows' values, not a delta: the exported embedding's rows.
                Tensor rows = f.load("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta");
                Tensor merged = lora.exportModel().namedParameters().get("model.embed_tokens.weight");
                assertEquals(0.0, relErr(rows, merged.index_select(0, Tensor.create(new long[] {7, 100}))), 1e-7);
            }

            LoraModel back = PeftAdapters.load(tmp, base);
            assertEquals(4, back.rank());
            assertEquals(8.0, back.alpha());
            assertArrayEquals(new long[] {7, 100}, back.trainableTokenIds());
            assertEquals(new TreeSet<>(lora.adaptedWeights()), new TreeSet<>(back.adaptedWeights()));
            double err = relErr(back.forwardModel().logits(ids(), null), lora.forwardModel().logits(ids(), null));
            assertTrue(err < 1e-6, "same model after save and load: " + err);
        }
    }

    @Test
    void tiedModelWritesTheTokenRowsOnceAsPeftDoes() throws Exception {
        TorchTesting.seed("peft-tied");
        try (PointerScope scope = new PointerScope()) {
            CausalLM base = TinyModels.randomModel(TinyModels.tinyConfigs().get("qwen2-tied"));
            LoraModel lora = trainedLora(base, new long[] {3});
            PeftAdapters.save(lora, tmp, null, null);
            JsonNode config = JSON.readTree(tmp.resolve(PeftAdapters.CONFIG).toFile());
            assertEquals("[3]", config.get("trainable_token_indices").toString(), "a list: PEFT ties lm_head to it");
            assertTrue(config.get("base_model_name_or_path").isNull());
            try (SafetensorsFile f = SafetensorsFile.open(tmp.resolve(PeftAdapters.WEIGHTS))) {
                assertTrue(f.tensors().keySet().stream().noneMatch(n -> n.startsWith("base_model.model.lm_head")), f.tensors().keySet().toString());
            }
            LoraModel back = PeftAdapters.load(tmp, base);
            assertTrue(relErr(back.forwardModel().logits(ids(), null), lora.forwardModel().logits(ids(), null)) < 1e-6);
        }
    }

    @Test
    void whatLinchpinsLoraCannotComputeIsRefusedByName() throws Exception {
        TorchTesting.seed("peft-refusals");
        try (PointerScope scope = new PointerScope()) {
            ModelConfig c = TinyModels.tinyConfigs().get("llama");
            CausalLM base = TinyModels.randomModel(c);
            PeftAdapters.save(trainedLora(base, new long[0]), tmp, null, null);
            Path cfg = tmp.resolve(PeftAdapters.CONFIG), weights = tmp.resolve(PeftAdapters.WEIGHTS);
            String good = Files.readString(cfg);

            for (Map.Entry<String, String> e : Map.of("use_rslora", "true", "use_dora", "true", "bias", "\"all\"",
                    "rank_pattern", "{\"q_proj\": 8}", "modules_to_save", "[\"lm_head\"]", "peft_type", "\"IA3\"", "r", "0").entrySet()) {
                ObjectNode o = (ObjectNode) JSON.readTree(good);
                o.set(e.getKey(), JSON.readTree(e.getValue()));
                Files.writeString(cfg, o.toString());
                IOException x = assertThrows(IOException.class, () -> PeftAdapters.load(tmp, base), e.getKey());
                assertTrue(x.getMessage().contains(cfg.toString()) && x.getMessage().contains(e.getKey()), x.getMessage());
            }
            Files.writeString(cfg, good);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            try (SafetensorsFile f = SafetensorsFile.open(weights)) {
                for (String n : f.tensors().keySet()) tensors.put(n, f.load(n).clone());
            }
            String a = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
            String b = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
            refused(weights, tensors, m -> m.remove(b), "has lora_A but no lora_B");
            refused(weights, tensors, m -> m.put(a, TorchTesting.randn(ScalarType.Float, 4, 32)), "has shape [4, 32], expected [4, 64]");
            refused(weights, tensors, m -> m.put(a, m.get(a).clone().fill_(TorchTesting.s(Double.NaN))), "NaN");
            refused(weights, tensors, m -> m.put("base_model.model.model.layers.0.input_layernorm.lora_A.weight",
                    TorchTesting.randn(ScalarType.Float, 4, 64)), "not a linear projection");
            refused(weights, tensors, m -> m.put("base_model.model.model.norm.weight", TorchTesting.randn(ScalarType.Float, 64)),
                    "not LoRA A/B or trainable token rows");
            refused(weights, tensors, m -> m.put("base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta",
                    TorchTesting.randn(ScalarType.Float, 1, 64)), "names no trainable_token_indices");
        }
    }

    private void refused(Path weights, Map<String, Tensor> good, java.util.function.Consumer<Map<String, Tensor>> change, String message)
            throws Exception {
        Map<String, Tensor> m = new LinkedHashMap<>(good);
        change.accept(m);
        SafetensorsWriter.write(weights, m, Map.of("format", "pt"));
        CausalLM base = TinyModels.randomModel(TinyModels.tinyConfigs().get("llama"));
        IOException x = assertThrows(IOException.class, () -> PeftAdapters.load(tmp, base), message);
        assertTrue(x.getMessage().contains(message) && x.getMessage().contains(weights.toString()), x.getMessage());
        SafetensorsWriter.write(weights, good, Map.of("format", "pt"));
    }
}
