package dev.linchpin.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.model.CausalLM;
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
 * A tiny Llama with fixed random weights (scaled so greedy choices are far from ties, as in the mining
 * fixture) and the project's word-level tokenizer in Hugging Face layout, plus GSM8K-format data sets
 * whose gold answers make greedy accuracy non-trivial: for every third question the gold is the
 * answer the <em>Java</em> model's greedy response gives, otherwise a number the model cannot write.
 */
final class EvalFixture {
    static final int MAX_NEW = 16;
    static final String IMPOSSIBLE_GOLD = "123456789012345678901";
    static final List<String> WORDS = List.of("Tom", "has", "apples", "buys", "more", "so", "he", "the", "answer", "is",
            "plus", "minus", "left", "now");

    private EvalFixture() {}

    /** Writes the model to {@code dir} (once) and returns it. */
    static Path model(Path dir) throws IOException {
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
            torch.manual_seed(20261124L);
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

    static CausalLM javaModel(Path dir) throws IOException {
        return CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
    }

    static String question(int i) {
        return "Tom has " + (3 + i) + " apples and buys " + (i % 5 + 1) + " more";
    }

    /** The prompt the evaluator builds for the fixture tokenizer (it has a chat template: CHAT style). */
    static long[] prompt(Tokenizer tok, String question) {
        return tok.encode(tok.applyChatTemplate(List.of(ChatMessage.user(question)), true, null), false);
    }

    /** Writes {@code count} GSM8K records starting at question {@code first} (see the class comment). */
    static void writeData(Path file, int first, int count, Path modelDir) throws IOException {
        CausalLM model = javaModel(modelDir);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(modelDir)) {
            AnswerExtractor extractor = new AnswerExtractor();
            for (int i = first; i < first + count; i++) {
                String gold = IMPOSSIBLE_GOLD;
                if (i % 3 == 0) {
                    long[] response = dev.linchpin.model.Generation.greedy(model, prompt(tok, question(i)), MAX_NEW, new long[] {0});
                    Extraction found = extractor.extract(tok.decode(response, true));
                    if (found.found()) gold = found.answer();
                }
                ObjectNode o = json.createObjectNode();
                o.put("id", String.format("q-%03d", i));
                o.put("question", question(i));
                o.put("answer", "Some reasoning.\n#### " + gold);
                lines.add(json.writeValueAsString(o));
            }
        }
        Files.write(file, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
