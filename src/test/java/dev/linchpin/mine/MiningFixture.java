package dev.linchpin.mine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.testing.TorchTesting;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import dev.linchpin.verify.AnswerExtractor;
import dev.linchpin.verify.Extraction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Test fixtures for mining, until the trained embedded default is merged: a tiny Llama with fixed random
 * weights (large enough that greedy choices are far from ties) and the project's word-level tokenizer,
 * saved in Hugging Face layout; and a GSM8K-format data set whose gold answers make D_correct
 * non-trivial: for even examples the gold is the answer the <em>Java</em> model's own greedy response
 * gives (so the example must be kept), for odd ones a number no response of length ≤ 16 can contain
 * (so it must be dropped).
 */
public final class MiningFixture {
    public static final int MAX_NEW = 16;
    static final String IMPOSSIBLE_GOLD = "123456789012345678901";
    static final List<String> WORDS = List.of("Tom", "has", "apples", "buys", "more", "so", "he", "the", "answer", "is",
            "plus", "minus", "left", "now");

    private MiningFixture() {}

    /**
     * The model directory of the fast mining tests: a tiny fixed-random model whose greedy answers are
     * made right or wrong on purpose (see {@link #writeData}). {@code MiningOnEmbeddedDefaultTest} runs
     * the paper's regime on the trained embedded default.
     */
    public static Path modelDir(Path scratch) throws IOException {
        return tinyModel(scratch.resolve("tiny-model"), 20261124L);
    }

    /** Writes the tiny model with weights drawn from {@code seed} (same seed → same files). */
    static Path tinyModel(Path dir, long seed) throws IOException {
        if (Files.exists(dir.resolve("config.json"))) return dir;
        Path tok = dir.resolveSibling(dir.getFileName() + "-tokenizer");
        new TokenizerBuilder().addWords(WORDS).write(tok);
        int vocab;
        try (Tokenizer t = Tokenizer.load(tok)) {
            vocab = (int) t.vocabSize();
        }
        ModelConfig config = ModelConfig.builder(ModelFamily.LLAMA).vocabSize(vocab).hiddenSize(64).intermediateSize(96)
                .numLayers(2).numHeads(4).numKvHeads(2).maxPositionEmbeddings(256).rmsNormEps(1e-6)
                .eosTokenIds(List.of(0L)).build();
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(seed);
            Map<String, Tensor> w = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : CausalLM.parameterShapes(config).entrySet()) {
                Tensor r = TorchTesting.randn(ScalarType.Float, e.getValue());
                String n = e.getKey();
                if (n.endsWith("norm.weight")) r = r.mul(TorchTesting.s(0.2)).add(TorchTesting.s(1.0));
                else if (!n.contains("embed")) r = r.mul(TorchTesting.s(0.3));
                w.put(n, r);
            }
            CausalLM.fromParameters(config, w).save(dir, tok);
        }
        return dir;
    }

    /** The Java model of {@code dir} (fp32, CPU). */
    static CausalLM javaModel(Path dir) throws IOException {
        return CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
    }

    /** The question of example {@code i}. */
    static String question(int i) {
        return "Tom has " + (3 + i) + " apples and buys " + (i % 5 + 1) + " more";
    }

    /**
     * Writes {@code count} GSM8K records (ids "ex-000"...) to {@code file}: even examples get the gold the
     * Java model's greedy response implies (extracted by {@link AnswerExtractor}, or the impossible
     * number when it has none), odd ones the impossible number. Returns the expected kept flags.
     */
    public static boolean[] writeData(Path file, int count, Path modelDir) throws IOException {
        CausalLM model = javaModel(modelDir);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        boolean[] kept = new boolean[count];
        try (Tokenizer tok = Tokenizer.load(modelDir)) {
            PromptEncoder prompts = PromptEncoder.of(tok, PromptEncoder.Style.AUTO, null, null);
            AnswerExtractor extractor = new AnswerExtractor();
            for (int i = 0; i < count; i++) {
                String q = question(i);
                String gold = IMPOSSIBLE_GOLD;
                if (i % 2 == 0) {
                    long[] prompt = prompts.encode(new Example("x", q, List.of(ChatMessage.user(q)), null, "0", file, 1));
                    long[] response = Generation.greedy(model, prompt, MAX_NEW, new long[] {0});
                    Extraction found = extractor.extract(tok.decode(response, true));
                    if (found.found()) {
                        gold = found.answer();
                        kept[i] = true;
                    }
                }
                ObjectNode o = json.createObjectNode();
                o.put("id", String.format("ex-%03d", i));
                o.put("question", q);
                o.put("answer", "Some reasoning.\n#### " + gold);
                lines.add(json.writeValueAsString(o));
            }
        }
        Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        return kept;
    }

    /** The mining options the tests use: the paper's rule, small budgets. */
    public static MiningOptions options(int batchSize) {
        return new MiningOptions(2, 1, 0.0, 1.0, 0L, 1.0, 0, -1, MAX_NEW, 8, batchSize, 16);
    }

    /** Command-line arguments of {@code linchpin mine} for the fixture. */
    static List<String> mineArgs(Path model, Path data, Path out, int batchSize) {
        return new ArrayList<>(List.of("mine", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--max-new-tokens", String.valueOf(MAX_NEW), "--branch-margin", "8", "--batch-size", String.valueOf(batchSize),
                "--max-branches", "16", "--threads", "1", "--kv-budget-mb", "64", "--progress", "log"));
    }
}
