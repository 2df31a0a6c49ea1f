package dev.linchpin.model;

import dev.linchpin.testing.TinyModels;
import static dev.linchpin.model.safetensors.SafetensorsWriteTest.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import dev.linchpin.testing.TorchTesting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** save → load is bit-identical, the layout is what transformers expects, and broken checkpoints are named. */
class SaveLoadTest {
    @TempDir Path dir;

    @Test
    void roundTripIsBitIdenticalForEveryFamilyAndDtype() throws IOException {
        Random rnd = new Random(TorchTesting.seed("save/load"));
        Path tok = Files.createDirectories(dir.resolve("tok"));
        Files.writeString(tok.resolve("tokenizer.json"), "{\"version\":\"1.0\"}");
        Files.writeString(tok.resolve("tokenizer_config.json"), "{\"eos_token\":\"</s>\"}");
        Files.writeString(tok.resolve("unrelated.txt"), "not copied");
        for (Map.Entry<String, ModelConfig> e : TinyModels.tinyConfigs().entrySet()) {
            for (ScalarType dtype : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                try (PointerScope scope = new PointerScope()) {
                    CausalLM model = CausalLM.randomInit(e.getValue(), rnd.nextLong(), new Device("cpu"), dtype);
                    Path out = dir.resolve(e.getKey() + "-" + dtype);
                    model.save(out, tok);
                    assertTrue(Files.exists(out.resolve("tokenizer.json")) && Files.exists(out.resolve("tokenizer_config.json")));
                    assertFalse(Files.exists(out.resolve("unrelated.txt")));
                    JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
                    assertEquals(e.getValue().family().architecture(), cfg.get("architectures").get(0).asText());
                    assertEquals(dtype == ScalarType.Float ? "float32" : "bfloat16", cfg.get("torch_dtype").asText());
                    try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                        assertEquals(Map.of("format", "pt"), f.metadata());   // transformers refuses files without it
                        assertEquals(e.getValue().tieWordEmbeddings(), !f.tensors().containsKey("lm_head.weight"));
                    }

                    CausalLM loaded = CausalLM.load(out, new Device("cpu"), dtype);
                    assertEquals(model.namedParameters().keySet(), loaded.namedParameters().keySet());
                    for (String name : model.namedParameters().keySet()) {
                        assertBitIdentical(name, model.namedParameters().get(name), loaded.namedParameters().get(name));
                    }
                    Tensor ids = TinyModels.batch(TinyModels.randomIds(rnd, 7, e.getValue().vocabSize()));
                    assertBitIdentical("logits", model.logits(ids, null), loaded.logits(ids, null));
                    assertEquals(e.getValue().toString(), loaded.config().toString());
                }
            }
        }
    }

    @Test
    void sameSeedSameWeights() {
        ModelConfig c = TinyModels.tinyConfigs().get("qwen3-headdim");
        try (PointerScope scope = new PointerScope()) {
            CausalLM a = CausalLM.randomInit(c, 42), b = CausalLM.randomInit(c, 42), other = CausalLM.randomInit(c, 43);
            String name = "model.layers.1.mlp.up_proj.weight";
            assertBitIdentical(name, a.namedParameters().get(name), b.namedParameters().get(name));
            assertFalse(a.namedParameters().get(name).equal(other.namedParameters().get(name)));
            double std = a.namedParameters().get(name).std().item_double();
            assertEquals(0.02, std, 0.002, "initializer_range");
        }
    }

    @Test
    void brokenCheckpointsAreRejectedNamingTheTensor() throws IOException {
        ModelConfig c = TinyModels.tinyConfigs().get("llama");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = CausalLM.randomInit(c, 1);
            Path good = dir.resolve("good");
            model.save(good, null);
            String victim = "model.layers.1.self_attn.k_proj.weight";

            Map<String, Tensor> missing = new LinkedHashMap<>(model.namedParameters());
            missing.remove(victim);
            assertLoadFails(good, missing, victim);

            Map<String, Tensor> reshaped = new LinkedHashMap<>(model.namedParameters());
            reshaped.put(victim, TorchTesting.randn(ScalarType.Float, 16, 64));
            assertLoadFails(good, reshaped, victim);

            Map<String, Tensor> nan = new LinkedHashMap<>(model.namedParameters());
            Tensor poisoned = model.namedParameters().get(victim).clone();
            poisoned.get(3).get(5).fill_(TorchTesting.s(Double.NaN));
            nan.put(victim, poisoned);
            assertLoadFails(good, nan, victim);

            Map<String, Tensor> extra = new LinkedHashMap<>(model.namedParameters());
            extra.put("model.layers.9.mlp.up_proj.weight", TorchTesting.randn(ScalarType.Float, 2));
            assertLoadFails(good, extra, "model.layers.9.mlp.up_proj.weight");

            Map<String, Tensor> ints = new LinkedHashMap<>(model.namedParameters());
            ints.put(victim, model.namedParameters().get(victim).to(ScalarType.Int));
            assertLoadFails(good, ints, victim);
        }
    }

    private void assertLoadFails(Path good, Map<String, Tensor> tensors, String named) throws IOException {
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(good.resolve("config.json"), broken.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        SafetensorsWriter.write(broken.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        IOException e = assertThrows(IOException.class, () -> CausalLM.load(broken, new Device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains(named) && e.getMessage().contains(broken.toString()), e.getMessage());
    }
}
