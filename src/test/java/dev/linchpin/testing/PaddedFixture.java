package dev.linchpin.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The padded-vocabulary fixture made by Hugging Face transformers ({@code tests/fixtures/padded/make_padded.py}):
 * a tiny Qwen3 whose tied embedding has {@link #vocabSize()} rows for a tokenizer of {@link #tokenizerSize()}
 * ids, the padded rows scaled so an unrestricted model picks them, and transformers' own expectations
 * ({@code expected.json}) for three prompts.
 */
public final class PaddedFixture {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prompt of expected.json and what transformers computed for it. */
    public record Case(long[] prompt, long[] unrestrictedGreedy, long[] restrictedGreedy, long[][] top3Ids,
            double[][] top3Probs) {}

    private final Path dir;
    private final int tokenizerSize, vocabSize;
    private final List<Case> cases = new ArrayList<>();

    private PaddedFixture(Path dir) {
        this.dir = dir;
        try {
            JsonNode padding = JSON.readTree(dir.resolve("padding.json").toFile());
            tokenizerSize = padding.get("tokenizer_size").asInt();
            vocabSize = padding.get("vocab_size").asInt();
            for (JsonNode c : JSON.readTree(dir.resolve("expected.json").toFile()).get("cases")) {
                JsonNode ids = c.get("top3_ids"), probs = c.get("top3_probs");
                long[][] topIds = new long[ids.size()][];
                double[][] topProbs = new double[probs.size()][];
                for (int t = 0; t < ids.size(); t++) {
                    topIds[t] = longs(ids.get(t));
                    topProbs[t] = new double[probs.get(t).size()];
                    for (int k = 0; k < topProbs[t].length; k++) topProbs[t][k] = probs.get(t).get(k).asDouble();
                }
                cases.add(new Case(longs(c.get("prompt")), longs(c.get("unrestricted_greedy")),
                        longs(c.get("restricted_greedy")), topIds, topProbs));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The committed fixture (the tests run from the repository root). */
    public static PaddedFixture load() {
        Path dir = Path.of("tests/fixtures/padded/qwen3-padded").toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
            throw new IllegalStateException(dir + " is missing: run tests/fixtures/padded/make_padded.py");
        }
        return new PaddedFixture(dir);
    }

    private static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asLong();
        return out;
    }

    /** The model directory (config.json, model.safetensors, tokenizer files). */
    public Path dir() {
        return dir;
    }

    /** Ids of the tokenizer. */
    public int tokenizerSize() {
        return tokenizerSize;
    }

    /** Rows of the embedding (config.json's vocab_size). */
    public int vocabSize() {
        return vocabSize;
    }

    /** transformers' expectations, one per prompt. */
    public List<Case> cases() {
        return cases;
    }
}
