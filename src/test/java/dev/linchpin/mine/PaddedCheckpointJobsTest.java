package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.cli.Main;
import dev.linchpin.testing.PaddedFixture;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.AnswerExtractor;
import dev.linchpin.verify.Extraction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin mine} and {@code linchpin eval} on the transformers-made checkpoint whose embedding is
 * padded beyond its tokenizer ({@link PaddedFixture}; unrestricted, its greedy choices are all padded
 * ids, which made {@code eval} abort before). Both run to the end; every response is transformers'
 * greedy continuation with the padding suppressed, every alternative and its probability are
 * transformers' top 2..3 over the tokenizer's ids.
 */
class PaddedCheckpointJobsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final PaddedFixture FIXTURE = PaddedFixture.load();
    static final String[] QUESTIONS = {"Tom has 3 apples and buys 2 more", "how many apples does Tom have", "5 plus 7 is"};
    static final String TEMPLATE = "{question}\n";
    static final int MAX_NEW = 12;

    @TempDir
    static Path scratch;
    static Path data;
    static String[] gold = new String[QUESTIONS.length];

    /** Gold answers: what the verifier extracts from transformers' restricted greedy response (else unreachable). */
    @BeforeAll
    static void data() throws IOException {
        List<String> lines = new ArrayList<>();
        try (Tokenizer tok = Tokenizer.load(FIXTURE.dir())) {
            for (int i = 0; i < QUESTIONS.length; i++) {
                PaddedFixture.Case c = FIXTURE.cases().get(i);
                assertArrayEquals(c.prompt(), tok.encode(QUESTIONS[i] + "\n", false), "the Java tokenizer encodes as tokenizers did");
                Extraction found = new AnswerExtractor().extract(tok.decode(c.restrictedGreedy(), true));
                gold[i] = found.found() ? found.answer() : "123456789";
                ObjectNode o = JSON.createObjectNode();
                o.put("id", "q" + i);
                o.put("question", QUESTIONS[i]);
                o.put("answer", "#### " + gold[i]);
                lines.add(o.toString());
            }
        }
        data = scratch.resolve("padded.jsonl");
        Files.write(data, lines, StandardCharsets.UTF_8);
    }

    static String run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, log);
        return log;
    }

    @Test
    void miningBranchesOnlyToTheTokenizersIdsWithTransformersProbabilities() throws IOException {
        Path out = scratch.resolve("masks.jsonl");
        run("mine", "--model", FIXTURE.dir().toString(), "--data", data.toString(), "--out", out.toString(),
                "--prompt-template", TEMPLATE, "--max-new-tokens", String.valueOf(MAX_NEW), "--branch-margin", "4",
                "--batch-size", "2", "--threads", "1", "--kv-budget-mb", "16", "--progress", "log");
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(QUESTIONS.length, lines.size());
        int kept = 0, positions = 0;
        for (int i = 0; i < QUESTIONS.length; i++) {
            MaskRecord r = MasksJson.fromLine(lines.get(i));
            PaddedFixture.Case c = FIXTURE.cases().get(i);
            assertTrue(!r.failed(), lines.get(i));
            assertArrayEquals(c.restrictedGreedy(), r.responseIds(), r.id() + ": transformers' greedy with the padding suppressed");
            if (!r.kept()) continue;
            kept++;
            int p = c.prompt().length;
            for (MaskRecord.Position pos : r.positions()) {
                positions++;
                int row = p + pos.t() - 1;
                assertEquals(c.top3Ids()[row][0], pos.token());
                assertEquals(c.top3Probs()[row][0], pos.p(), 2e-5 * c.top3Probs()[row][0]);
                for (int a = 0; a < 2; a++) {
                    MaskRecord.Alternative alt = pos.alternatives().get(a);
                    assertTrue(alt.token() < FIXTURE.tokenizerSize(), "alternative " + alt.token() + " is a token id");
                    assertEquals(c.top3Ids()[row][a + 1], alt.token(), r.id() + " t=" + pos.t() + " rank " + (a + 2));
                    assertEquals(c.top3Probs()[row][a + 1], alt.p(), 2e-5 * c.top3Probs()[row][a + 1]);
                }
            }
        }
        assertTrue(kept >= 1 && positions > 0, "the fixture keeps an example: kept " + kept);
    }

    @Test
    void evaluationRunsToTheEndWithTheTokenizersVocabulary() throws IOException {
        Path out = scratch.resolve("eval.json");
        run("eval", "--model", FIXTURE.dir().toString(), "--data", data.toString(), "--out", out.toString(),
                "--prompt-template", TEMPLATE, "--samples", "6", "--temperature", "1.5", "--top-p", "1",
                "--max-new-tokens", String.valueOf(MAX_NEW), "--threads", "1", "--kv-budget-mb", "16", "--progress", "log");
        JsonNode report = JSON.readTree(out.toFile());
        assertEquals(0, report.get("overall").get("failed_questions").asInt());
        JsonNode detail = report.get("datasets").get(0).get("detail");
        try (Tokenizer tok = Tokenizer.load(FIXTURE.dir())) {
            for (int i = 0; i < QUESTIONS.length; i++) {
                assertEquals(tok.decode(FIXTURE.cases().get(i).restrictedGreedy(), true), detail.get(i).get("greedy").get("text").asText());
                assertEquals(6, detail.get(i).get("samples").size());
            }
        }
    }
}
