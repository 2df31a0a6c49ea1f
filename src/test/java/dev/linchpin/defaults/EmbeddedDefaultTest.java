package dev.linchpin.defaults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.linchpin.data.SyntheticTask;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.testing.TorchTesting;
import dev.linchpin.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache contract of {@link EmbeddedDefault} on the tiny config (trains in a few seconds). */
class EmbeddedDefaultTest {
    static {
        TorchTesting.seed("EmbeddedDefaultTest");
    }

    private static final DefaultConfig TINY = DefaultConfig.tiny();

    @TempDir
    Path root;

    @Test
    void trainsOnceThenReusesTheCache() throws IOException {
        EmbeddedDefault.Result first = EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root);
        assertTrue(first.trained());
        Path dir = first.directory();
        assertEquals(root.resolve(TINY.hash()), dir);
        for (String f : EmbeddedDefault.MODEL_FILES) assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        JsonNode t = first.training();
        assertTrue(t.path("final_loss").isNumber() && t.path("test_accuracy").isNumber() && t.path("ood_accuracy").isNumber()
                && t.path("wall_seconds").isNumber(), t.toString());
        assertEquals(TINY.canonical(), t.path("config").asText());
        assertEquals(TINY.testSize(), t.path("test_total").asInt());
        try (var entries = Files.list(root)) {
            assertEquals(List.of(dir), entries.toList(), "no temporary directory is left behind");
        }

        FileTime weightsTime = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        EmbeddedDefault.Result second = EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root);
        assertFalse(second.trained(), "second ensure must reuse the cache");
        assertEquals(dir, second.directory());
        assertEquals(weightsTime, Files.getLastModifiedTime(dir.resolve("model.safetensors")));
    }

    @Test
    void truncatedWeightsMissingReportAndStaleTempsAreNotReused() throws IOException {
        Path dir = EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root).directory();
        byte[] weights = Files.readAllBytes(dir.resolve("model.safetensors"));

        Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
        assertEquals(null, EmbeddedDefault.readIfComplete(dir, TINY.hash()));
        EmbeddedDefault.Result rebuilt = EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root);
        assertTrue(rebuilt.trained(), "a truncated model must be rebuilt");
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(dir.resolve("model.safetensors"))),
                "the rebuild reproduces the same weights bit for bit (deterministic training)");

        // a killed run: the directory exists but training.json (written last) does not
        Files.delete(dir.resolve("training.json"));
        assertTrue(EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root).trained());

        // a malformed training.json
        Files.writeString(dir.resolve("training.json"), "{\"config_hash\": ");
        assertTrue(EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root).trained());

        // a temporary directory of a dead process is cleaned up on the next build
        Files.delete(dir.resolve("config.json"));
        Path stale = Files.createDirectories(root.resolve(".tmp-" + TINY.hash() + "-999999999-1"));
        Files.writeString(stale.resolve("model.safetensors"), "half");
        assertTrue(EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root).trained());
        assertFalse(Files.exists(stale), "abandoned temporary directory removed");
    }

    @Test
    void savedDirectoryLoadsThroughTheRealLoadersAndGenerates() throws IOException {
        Path dir = EmbeddedDefault.ensureDetailed(TINY, ProgressListener.silent(), root).directory();
        CausalLM model = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            assertEquals(tokenizer.vocabSize(), model.config().vocabSize());
            String question = new SyntheticTask(TINY.dataSeed(), TINY.difficulty(), TINY.oodDifficulty())
                    .generate(0, 1, 0).test().get(0).question();
            long[] prompt = DefaultRecipe.promptIds(tokenizer, question);
            // the chat template's prompt is the question and a newline, tokenized without unknown words
            assertEquals(question + "\n", tokenizer.decode(prompt, false));
            long[] out = Generation.greedy(model, prompt, TINY.maxNewTokens(),
                    tokenizer.eosTokenIds().stream().mapToLong(Long::longValue).toArray());
            assertTrue(out.length > 0);
            assertNotNull(tokenizer.decode(out, true));
            // digits are single tokens
            assertEquals(3, tokenizer.encode("123", false).length);
        }
    }

    @Test
    void hashIsStableForEqualConfigsAndChangesWithAnyField() {
        assertEquals(DefaultConfig.tiny().hash(), DefaultConfig.tiny().hash());
        assertEquals(16, TINY.hash().length());
        assertNotEquals(TINY.hash(), DefaultConfig.standard().hash());
        for (Map.Entry<String, String> change : Map.of("data.seed", "100", "data.train", "65", "model.hidden", "64",
                "train.steps", "31", "train.peak_lr", "0.0031", "train.seed", "12", "data.max_operand", "8", "train.ranks", "2").entrySet()) {
            DefaultConfig other = TINY.with(Map.of(change.getKey(), change.getValue()));
            assertNotEquals(TINY.hash(), other.hash(), change.getKey());
            assertNotEquals(TINY.canonical(), other.canonical(), change.getKey());
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> TINY.with(Map.of("nope", "1")));
        IllegalArgumentException odd = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TINY.with(Map.of("train.ranks", "3")));
        assertTrue(odd.getMessage().contains("train.batch 8 is not a multiple of train.ranks 3"), odd.getMessage());
        // train.batch is the whole step's examples, whatever the ranks: 2 ranks of 4 are the step of 8
        DefaultConfig two = TINY.with(Map.of("train.ranks", "2"));
        assertEquals(4, two.training().microBatch());
        assertTrue(two.canonical().contains("train.batch=8\ntrain.ranks=2\n"), two.canonical());
        assertEquals(2, DefaultConfig.standard().ranks());
        assertEquals(32, DefaultConfig.standard().training().microBatch() * DefaultConfig.standard().ranks());
    }

    /**
     * Two data-parallel ranks (threads) train the same step of examples as one process: the per-step loss
     * agrees up to float summation order (here with one libtorch thread each, against one process of one
     * thread), and the build is deterministic: the same config gives the same bytes.
     */
    @Test
    void twoThreadRanksTrainLikeOneProcessAndDeterministically() throws IOException {
        DefaultConfig one = TINY.with(Map.of("train.threads", "1"));
        DefaultConfig two = TINY.with(Map.of("train.threads", "1", "train.ranks", "2"));
        JsonNode a = EmbeddedDefault.ensureDetailed(one, ProgressListener.silent(), root.resolve("one")).training();
        EmbeddedDefault.Result b = EmbeddedDefault.ensureDetailed(two, ProgressListener.silent(), root.resolve("two"));
        EmbeddedDefault.Result again = EmbeddedDefault.ensureDetailed(two, ProgressListener.silent(), root.resolve("again"));
        JsonNode curveA = a.path("loss_curve_every_1_steps"), curveB = b.training().path("loss_curve_every_1_steps");
        assertEquals(TINY.training().steps(), curveA.size(), a.toString());
        assertEquals(curveA.size(), curveB.size());
        double worst = 0;
        for (int i = 0; i < curveA.size(); i++) {
            double x = curveA.get(i).asDouble(), y = curveB.get(i).asDouble();
            worst = Math.max(worst, Math.abs(x - y) / Math.abs(x));
        }
        System.out.printf("tiny default, 1 process vs 2 thread ranks: worst relative loss difference over %d steps %.2e%n", curveA.size(), worst);
        assertTrue(worst < 1e-4, "per-step losses of 1 and 2 ranks differ by " + worst);
        assertEquals(EmbeddedDefault.sha256(b.directory().resolve("model.safetensors")),
                EmbeddedDefault.sha256(again.directory().resolve("model.safetensors")), "2-rank builds of one config must be byte-equal");
    }

    @Test
    void cacheRootHonoursTheSystemProperty() {
        String before = System.getProperty("linchpin.cache");
        try {
            System.setProperty("linchpin.cache", root.toString());
            if (System.getenv("LINCHPIN_CACHE") == null) assertEquals(root.resolve("default"), EmbeddedDefault.cacheRoot());
        } finally {
            if (before == null) System.clearProperty("linchpin.cache");
            else System.setProperty("linchpin.cache", before);
        }
    }
}
