package dev.linchpin.mine;

import dev.linchpin.engine.ItemFailures;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.cli.Main;
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
 * One odd example never costs a long job its work: an example whose prompt does not fit the KV budget
 * (a 3000-token question against a 1 MiB budget = 2048 positions of the fixture model) is recorded
 * with its reason by {@code mine} and {@code eval}, every other record is byte for byte what a run
 * with room for it writes, and a resume skips it. A run where every example fails stops instead,
 * writing nothing.
 */
class OddExamplesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int NORMAL = 6, LONG_AT = 2;

    @TempDir
    static Path scratch;
    static Path model, data;

    @BeforeAll
    static void fixture() throws IOException {
        model = MiningFixture.modelDir(scratch);
        Path plain = scratch.resolve("plain.jsonl");
        MiningFixture.writeData(plain, NORMAL, model);
        List<String> lines = new ArrayList<>(Files.readAllLines(plain, StandardCharsets.UTF_8));
        lines.add(LONG_AT, longQuestion("ex-long"));
        data = scratch.resolve("with-long.jsonl");
        Files.write(data, lines, StandardCharsets.UTF_8);
    }

    /** A GSM8K record whose question is 3000 words (one token each with the fixture's tokenizer). */
    static String longQuestion(String id) {
        StringBuilder q = new StringBuilder("Tom has");
        for (int i = 0; i < 1500; i++) q.append(" apples plus");
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("question", q.toString());
        o.put("answer", "Counting.\n#### 7");
        return o.toString();
    }

    static List<String> withBudget(List<String> args, String mb) {
        List<String> out = new ArrayList<>(args);
        out.set(out.indexOf("--kv-budget-mb") + 1, mb);
        return out;
    }

    static String[] run(List<String> args, int expectedStatus) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectedStatus, status, log);
        return new String[] {out.toString(StandardCharsets.UTF_8), log};
    }

    @Test
    void miningRecordsTheExampleThatDoesNotFitAndGoesOn() throws IOException {
        Path tight = scratch.resolve("masks-tight.jsonl"), roomy = scratch.resolve("masks-roomy.jsonl");
        String log = run(withBudget(MiningFixture.mineArgs(model, data, tight, 4), "1"), 0)[1];
        run(MiningFixture.mineArgs(model, data, roomy, 4), 0);
        assertTrue(log.contains("ex-long") && log.contains("could not be mined"), log);

        List<String> tightLines = Files.readAllLines(tight, StandardCharsets.UTF_8);
        List<String> roomyLines = Files.readAllLines(roomy, StandardCharsets.UTF_8);
        assertEquals(NORMAL + 1, tightLines.size(), "every example has a record, in data order");
        for (int i = 0; i < tightLines.size(); i++) {
            MaskRecord r = MasksJson.fromLine(tightLines.get(i));
            assertEquals(i, r.index());
            if (i == LONG_AT) {
                assertEquals("ex-long", r.id());
                assertTrue(r.failed() && !r.kept() && r.positions().isEmpty() && r.responseIds().length == 0, tightLines.get(i));
                assertTrue(r.error().startsWith("KvBudgetExceededException: ") && r.error().contains("3"), r.error());
                assertTrue(tightLines.get(i).contains("\"error\":"), "the reason is in the file");
                assertFalse(MasksJson.fromLine(roomyLines.get(i)).failed(), "with room for it, it is mined");
            } else {
                assertEquals(roomyLines.get(i), tightLines.get(i), "the other records are unchanged, byte for byte");
                assertFalse(tightLines.get(i).contains("\"error\""), "a mined record has no error field");
            }
        }
        JsonNode summary = JSON.readTree(MiningSummary.pathFor(tight).toFile());
        assertEquals(1, summary.get("failed").asLong());
        assertEquals(NORMAL + 1, summary.get("examples").asLong());
        assertEquals(NORMAL + 1, summary.get("kept").asLong() + summary.get("dropped").asLong() + 1);

        byte[] before = Files.readAllBytes(tight);
        String again = run(withBudget(MiningFixture.mineArgs(model, data, tight, 2), "1"), 0)[1];
        assertTrue(again.contains((NORMAL + 1) + " records done, 0 to go"), "a failed example counts as finished: " + again);
        assertArrayEquals(before, Files.readAllBytes(tight));
    }

    @Test
    void miningStopsWithoutRecordingWhenEveryExampleFails() throws IOException {
        Path allLong = scratch.resolve("all-long.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) lines.add(longQuestion("long-" + i));
        Files.write(allLong, lines, StandardCharsets.UTF_8);
        Path out = scratch.resolve("masks-all-long.jsonl");
        String log = run(withBudget(MiningFixture.mineArgs(model, allLong, out, 4), "1"), 1)[1];
        assertTrue(log.contains("linchpin mine: error:") && log.contains(ItemFailures.MAX_IN_A_ROW + " examples in a row")
                && log.contains("KV budget"), log);
        assertTrue(Files.readAllLines(out).isEmpty(), "nothing recorded: a resume retries them all");
    }

    @Test
    void evaluationRecordsTheQuestionThatDoesNotFitAndScoresTheRest() throws IOException {
        Path tightJson = scratch.resolve("eval-tight.json"), roomyJson = scratch.resolve("eval-roomy.json");
        List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--data", data.toString(),
                "--samples", "3", "--temperature", "1.0", "--max-new-tokens", "12", "--batch-size", "4", "--threads", "1",
                "--kv-budget-mb", "1", "--progress", "log"));
        String[] tight = run(concat(args, "--out", tightJson.toString()), 0);
        run(withBudget(concat(args, "--out", roomyJson.toString()), "64"), 0);
        assertTrue(tight[0].contains("1 question could not be evaluated"), tight[0]);
        assertTrue(tight[1].contains("ex-long") && tight[1].contains("could not be evaluated"), tight[1]);

        JsonNode t = JSON.readTree(tightJson.toFile()), r = JSON.readTree(roomyJson.toFile());
        JsonNode td = t.get("datasets").get(0).get("detail"), rd = r.get("datasets").get(0).get("detail");
        assertEquals(NORMAL + 1, td.size());
        int correct = 0;
        for (int i = 0; i < td.size(); i++) {
            if (i == LONG_AT) {
                assertTrue(td.get(i).get("error").asText().contains("KV budget"), td.get(i).toString());
                assertNull(td.get(i).get("greedy"));
                assertNull(rd.get(i).get("error"));
            } else {
                // Redone alone, a question is prefilled without its batch: tokens and verdicts are the same,
                // entropies agree to float rounding (batched GEMMs round differently).
                assertSameUpToEntropyRounding(rd.get(i), td.get(i));
                if (td.get(i).get("greedy").get("correct").asBoolean()) correct++;
            }
        }
        JsonNode overall = t.get("overall");
        assertEquals(1, overall.get("failed_questions").asInt());
        assertEquals(NORMAL, overall.get("questions").asInt(), "the failed question is left out of the scores");
        assertEquals((double) correct / NORMAL, overall.get("greedy_accuracy").asDouble(), 1e-12);
        assertEquals(0, r.get("overall").get("failed_questions").asInt());
    }

    @Test
    void evaluationStopsWhenEveryQuestionFails() throws IOException {
        Path allLong = scratch.resolve("all-long-eval.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) lines.add(longQuestion("long-" + i));
        Files.write(allLong, lines, StandardCharsets.UTF_8);
        Path out = scratch.resolve("eval-all-long.json");
        String log = run(List.of("eval", "--model", model.toString(), "--data", allLong.toString(), "--samples", "2",
                "--max-new-tokens", "8", "--batch-size", "4", "--threads", "1", "--kv-budget-mb", "1", "--progress", "log",
                "--out", out.toString()), 1)[1];
        assertTrue(log.contains("linchpin eval: error:") && log.contains(ItemFailures.MAX_IN_A_ROW + " questions in a row")
                && log.contains("KV budget"), log);
        assertFalse(Files.exists(out), "no report for a stopped evaluation");
    }

    private static void assertSameUpToEntropyRounding(JsonNode expected, JsonNode actual) {
        ObjectNode e = expected.deepCopy(), a = actual.deepCopy();
        List<JsonNode> es = responses(e), as = responses(a);
        assertEquals(es.size(), as.size());
        for (int k = 0; k < es.size(); k++) {
            ObjectNode x = (ObjectNode) es.get(k), y = (ObjectNode) as.get(k);
            assertEquals(x.get("mean_entropy").asDouble(), y.get("mean_entropy").asDouble(), 1e-5, e.get("id").asText());
            x.remove("mean_entropy");
            y.remove("mean_entropy");
        }
        assertEquals(e, a, "other questions are unchanged");
    }

    private static List<JsonNode> responses(JsonNode question) {
        List<JsonNode> out = new ArrayList<>();
        out.add(question.get("greedy"));
        question.get("samples").forEach(out::add);
        return out;
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
