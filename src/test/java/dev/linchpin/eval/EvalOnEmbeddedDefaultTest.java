package dev.linchpin.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.cli.Main;
import dev.linchpin.cli.Progress;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.Verifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin eval} on the trained embedded default: the table for its test and OOD
 * splits on a few questions, with the greedy verdicts checked against the Java model's own greedy
 * decoding. The default is trained on first use (about 5 minutes on 2 cores) and cached after that.
 */
class EvalOnEmbeddedDefaultTest {
    static final int QUESTIONS = 8;
    static final int MAX_NEW = 160;   // DefaultConfig.standard()'s evaluation budget

    @TempDir
    Path dir;

    @Test
    void producesTheTableForTestAndOodWithGreedyVerdictsOfTheJavaModel() throws IOException {
        Path model = EmbeddedDefault.ensure(DefaultConfig.standard(), Progress.auto());
        Path json = dir.resolve("eval.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"eval", "--model", model.toString(), "--data",
                model.resolve("data/test.jsonl") + "," + model.resolve("data/ood.jsonl"), "--out", json.toString(),
                "--max-examples", String.valueOf(QUESTIONS), "--samples", "4", "--max-new-tokens", String.valueOf(MAX_NEW),
                "--threads", "2", "--progress", "log"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        String table = out.toString(StandardCharsets.UTF_8);
        System.out.print(table);
        String[] lines = table.split("\n");
        assertTrue(lines[0].matches("data set\\s+questions\\s+greedy\\s+pass@1\\s+pass@2\\s+pass@4\\s+entropy"), table);
        assertTrue(lines[1].matches("test\\s+8\\s+\\d+\\.\\d%.*"), table);
        assertTrue(lines[2].matches("ood\\s+8\\s+\\d+\\.\\d%.*"), table);
        assertTrue(lines[3].matches("overall\\s+16\\s+\\d+\\.\\d%.*"), table);

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        CausalLM java = CausalLM.load(model, new Device("cpu"), ScalarType.Float);
        Verifier verifier = new Verifier();
        int correct = 0;
        try (Tokenizer tok = Tokenizer.load(model)) {
            long[] eos = tok.eosTokenIds().stream().mapToLong(Long::longValue).toArray();
            for (JsonNode set : root.get("datasets")) {
                for (JsonNode q : set.get("detail")) {
                    String question = questionOnLine(set.get("file").asText(), q.get("line").asInt());
                    long[] prompt = tok.encode(tok.applyChatTemplate(List.of(ChatMessage.user(question)), true, null), false);
                    String text = tok.decode(Generation.greedy(java, prompt, MAX_NEW, eos), true);
                    assertEquals(text, q.get("greedy").get("text").asText(), q.get("id").asText());
                    boolean ok = verifier.verify(text, q.get("gold").asText()).correct();
                    assertEquals(ok, q.get("greedy").get("correct").asBoolean());
                    if (ok) correct++;
                }
            }
        }
        assertEquals(correct, root.get("overall").get("greedy_correct").asInt());
        double entropy = root.get("overall").get("entropy").asDouble();
        assertTrue(entropy > 0 && entropy < Math.log(java.config().vocabSize()), "entropy " + entropy);
    }

    private static String questionOnLine(String file, int line) throws IOException {
        String record = java.nio.file.Files.readAllLines(Path.of(file), StandardCharsets.UTF_8).get(line - 1);
        return new ObjectMapper().readTree(record).get("question").asText();
    }
}
