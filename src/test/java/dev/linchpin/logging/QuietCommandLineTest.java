package dev.linchpin.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user sees only the project's own output: {@code linchpin eval} run in a fresh JVM (as the launcher
 * runs it) loads JavaCPP, OpenBLAS, DJL's tokenizers and jinjava, and its stderr holds no SLF4J notice, no
 * JavaCPP version warning, no DJL GPU probe and no ANSI escape.
 */
class QuietCommandLineTest {
    @TempDir
    Path tmp;

    @Test
    void evalPrintsNoLibraryNoise() throws Exception {
        Path tok = tmp.resolve("tok"), model = tmp.resolve("model"), data = tmp.resolve("q.jsonl"), out = tmp.resolve("eval.json");
        new TokenizerBuilder().addWords(List.of("Tom", "has", "apples")).write(tok);
        long vocab;
        try (Tokenizer t = Tokenizer.load(tok)) {
            vocab = t.vocabSize();
        }
        ModelConfig config = ModelConfig.builder(ModelFamily.LLAMA).vocabSize((int) vocab).hiddenSize(16).intermediateSize(32)
                .numLayers(1).numHeads(2).numKvHeads(2).maxPositionEmbeddings(64).eosTokenIds(List.of(0L)).build();
        try (PointerScope scope = new PointerScope()) {
            CausalLM.randomInit(config, 7).save(model, tok);
        }
        Files.writeString(data, "{\"question\": \"Tom has 3 apples\", \"answer\": \"#### 3\"}\n");

        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), "dev.linchpin.cli.Main",
                "eval", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(), "--samples", "1",
                "--k", "1", "--max-new-tokens", "2", "--threads", "1", "--kv-budget-mb", "16", "--progress", "log");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        pb.redirectOutput(tmp.resolve("stdout.txt").toFile()).redirectError(tmp.resolve("stderr.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "eval finished");
        String stdout = Files.readString(tmp.resolve("stdout.txt")), stderr = Files.readString(tmp.resolve("stderr.txt"));
        assertEquals(0, p.exitValue(), stdout + stderr);
        assertTrue(Files.exists(out), "eval ran");
        for (String text : List.of(stdout, stderr)) {
            assertFalse(text.contains("SLF4J"), text);
            assertFalse(text.contains("do not match"), text);
            assertFalse(text.contains("GPU count"), text);
            assertFalse(text.contains("\u001b"), text);
            assertFalse(text.toLowerCase(java.util.Locale.ROOT).contains("warning"), text);
        }
    }

    @Test
    void onlyTheDeliberateVersionPairIsDropped() {
        assertTrue(QuietLogging.isKnownNoise(record("org.bytedeco.javacpp.Loader", QuietLogging.KNOWN_VERSION_WARNING)));
        // Any other pair is a real problem and still shows.
        assertFalse(QuietLogging.isKnownNoise(record("org.bytedeco.javacpp.Loader",
                "Versions of org.bytedeco:javacpp:1.5.14 and org.bytedeco:pytorch:2.12.0-1.5.13 do not match.")));
        assertFalse(QuietLogging.isKnownNoise(record("some.other.Logger", QuietLogging.KNOWN_VERSION_WARNING)));
        // The known pair is the one pom.xml pins.
        assertTrue(QuietLogging.KNOWN_VERSION_WARNING.contains(":openblas:" + pomProperty("openblas.version") + " "));
        assertTrue(QuietLogging.KNOWN_VERSION_WARNING.contains(":javacpp:" + pomProperty("javacpp.version") + " "));
    }

    private static LogRecord record(String logger, String message) {
        LogRecord r = new LogRecord(Level.WARNING, message);
        r.setLoggerName(logger);
        return r;
    }

    private static String pomProperty(String name) {
        try {
            String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);
            int at = pom.indexOf("<" + name + ">");
            return pom.substring(at + name.length() + 2, pom.indexOf("</" + name + ">", at));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

}
