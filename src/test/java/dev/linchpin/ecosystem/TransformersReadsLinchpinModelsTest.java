package dev.linchpin.ecosystem;

import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.testing.TorchTesting;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The other direction of the golden tests: models saved by Linchpin ({@link CausalLM#save}), one per family at
 * its real layout and the embedded default fine-tuned by {@code linchpin train} (saved in bf16), loaded by
 * transformers 5.18 (tests/fixtures/ecosystem/, make_linchpin_side.sh then make_ecosystem_fixtures.py). For
 * each, against transformers' outputs committed in outputs/:
 * <ul>
 *   <li>the committed directory is what Linchpin writes today: loading and saving it again gives the same
 *       config.json and the same tensors, byte for byte;
 *   <li>logits on fixed ids, from the Java model and from the rollout engine, within 1e-4 of the largest logit
 *       (float32 on both sides; measured about 1e-6);
 *   <li>greedy generation through the tokenizer's chat template: Linchpin renders the same prompt text,
 *       tokenizes it to the same ids, and the Java model and the rollout engine each generate exactly
 *       transformers' tokens, which decode to the same text.
 * </ul>
 */
class TransformersReadsLinchpinModelsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    static Stream<String> models() {
        return Stream.concat(EcosystemFixtures.FAMILIES.stream(), Stream.of(EcosystemFixtures.DEFAULT_SFT));
    }

    private static ScalarType savedDtype(Path dir) throws IOException {
        String dtype = ModelConfig.fromJson(dir.resolve("config.json")).torchDtype();
        return "bfloat16".equals(dtype) ? ScalarType.BFloat16 : ScalarType.Float;
    }

    @ParameterizedTest
    @MethodSource("models")
    void theCommittedDirectoryIsWhatLinchpinWrites(String name) throws IOException {
        Path dir = EcosystemFixtures.DIR.resolve(name), again = tmp.resolve(name);
        try (PointerScope scope = new PointerScope()) {
            CausalLM.load(dir, new Device("cpu"), savedDtype(dir)).save(again, dir);
        }
        assertEquals(Files.readString(dir.resolve("config.json")), Files.readString(again.resolve("config.json")), name);
        assertArrayEquals(Files.readAllBytes(dir.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")), name);
    }

    @ParameterizedTest
    @MethodSource("models")
    void logitsOfTheJavaModelAndTheEngineMatchTransformers(String name) throws IOException {
        Path dir = EcosystemFixtures.DIR.resolve(name);
        try (PointerScope scope = new PointerScope(); SafetensorsFile out = SafetensorsFile.open(EcosystemFixtures.OUTPUTS.resolve(name + ".safetensors"));
             RolloutEngine engine = RolloutEngine.fromHuggingFace(dir, 16L << 20, 1)) {
            Tensor ids = out.load("ids"), expected = out.load("logits");
            CausalLM model = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
            double err = relErr(model.logits(ids, null), expected);
            double engineErr = 0;
            for (int row = 0; row < ids.size(0); row++) {
                long[] tokens = TorchTesting.longs(ids.select(0, row));
                float[] logits = engine.logits(tokens);
                Tensor got = Tensor.create(logits).view(tokens.length, model.config().vocabSize());
                engineErr = Math.max(engineErr, relErr(got, expected.select(0, row)));
            }
            System.out.printf("transformers reads Linchpin's %s: logits rel. error Java model %.3g, engine %.3g%n", name, err, engineErr);
            assertTrue(err < TOLERANCE, name + ": Java model vs transformers " + err);
            assertTrue(engineErr < TOLERANCE, name + ": rollout engine vs transformers " + engineErr);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void greedyGenerationThroughTheChatTemplateMatchesTransformers(String name) throws IOException {
        Path dir = EcosystemFixtures.DIR.resolve(name);
        JsonNode fixture = JSON.readTree(EcosystemFixtures.OUTPUTS.resolve(name + ".json").toFile());
        int maxNew = fixture.get("max_new_tokens").asInt();
        try (PointerScope scope = new PointerScope(); Tokenizer tok = Tokenizer.load(dir);
             RolloutEngine engine = RolloutEngine.fromHuggingFace(dir, 16L << 20, 1)) {
            CausalLM model = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
            long[] eos = tok.eosTokenIds().stream().mapToLong(Long::longValue).toArray();
            int generated = 0;
            for (JsonNode g : fixture.get("generations")) {
                String question = g.get("question").asText();
                String rendered = tok.applyChatTemplate(List.of(ChatMessage.user(question)), true, null);
                assertEquals(g.get("rendered").asText(), rendered, name + ": chat template of " + question);
                long[] prompt = tok.encode(rendered, false);
                assertArrayEquals(longs(g.get("prompt_ids")), prompt, name + ": prompt ids of " + question);
                long[] expected = longs(g.get("generated_ids"));
                assertArrayEquals(expected, Generation.greedy(model, prompt, maxNew, eos), name + ": Java model's greedy tokens for " + question);
                assertArrayEquals(expected, engine.generate(prompt, 1, RolloutOptions.greedy(maxNew, eos)).get(0).tokens(),
                        name + ": rollout engine's greedy tokens for " + question);
                assertEquals(g.get("text").asText(), tok.decode(expected, true), name + ": decoded text");
                generated += expected.length;
            }
            assertTrue(generated > maxNew, name + ": the generations are not all empty");
        }
    }

    static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asLong();
        return out;
    }
}
