package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
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
 * CFT and the random ablation on the embedded default from a real masks file: 8 training questions are
 * mined with {@code linchpin mine}, then {@code linchpin train --objective cft|random} runs on them. The
 * expected trained-token fraction is computed here from the masks file read as plain JSON lines.
 */
class CftOnEmbeddedDefaultTest {
    static final int QUESTIONS = 8, STEPS = 20;

    @TempDir
    static Path scratch;
    static Path model, data, masks;
    /** Kept records, and their critical and response token counts, read independently of MaskRecords. */
    static int kept;
    static long criticalTokens, responseTokens;

    @BeforeAll
    static void mine() throws Exception {
        model = TrainCommandTest.defaultModel();
        data = scratch.resolve("train-head.jsonl");
        Files.write(data, Files.readAllLines(model.resolve("data/train.jsonl"), StandardCharsets.UTF_8).subList(0, QUESTIONS));
        masks = scratch.resolve("masks.jsonl");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"mine", "--model", model.toString(), "--data", data.toString(), "--out", masks.toString(),
                "--batch-size", "4", "--threads", "2", "--progress", "log"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(masks, StandardCharsets.UTF_8);
        assertEquals(QUESTIONS, lines.size(), "one masks line per question");
        for (String line : lines) {
            JsonNode r = json.readTree(line);
            if (!r.get("kept").asBoolean()) continue;
            kept++;
            criticalTokens += r.get("critical").size();
            responseTokens += r.get("response_ids").size();
        }
        System.out.printf("mined %d training questions: %d kept, %d of %d response tokens critical%n",
                QUESTIONS, kept, criticalTokens, responseTokens);
        assertTrue(kept >= 2, "the default solves most of its training questions, kept " + kept);
        assertTrue(criticalTokens > 0, "some tokens are critical");
    }

    /** Every step takes all kept examples once (batch size = kept count), so each step's fraction is the masks' fraction. */
    static List<JsonNode> train(String objective) throws Exception {
        Path out = scratch.resolve(objective);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"train", "--model", model.toString(), "--data", data.toString(), "--masks", masks.toString(),
                "--out", out.toString(), "--objective", objective, "--steps", String.valueOf(STEPS), "--batch-size", String.valueOf(kept),
                "--lr", "3e-4", "--warmup-steps", "2", "--threads", "2", "--seed", "5", "--progress", "log"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertTrue(Files.isRegularFile(out.resolve("final/model.safetensors")));
        List<JsonNode> metrics = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) metrics.add(new ObjectMapper().readTree(line));
        assertEquals(STEPS, metrics.size());
        double first = 0, last = 0;
        for (int i = 0; i < 4; i++) {
            first += metrics.get(i).get("loss").asDouble() / 4;
            last += metrics.get(STEPS - 4 + i).get("loss").asDouble() / 4;
        }
        System.out.printf("%s: loss %.4f -> %.4f%n", objective, first, last);
        assertTrue(last < first, objective + ": loss " + first + " -> " + last);
        return metrics;
    }

    @Test
    void cftLowersItsLossAndTrainsExactlyTheCriticalFraction() throws Exception {
        double expected = (double) criticalTokens / responseTokens;
        for (JsonNode step : train("cft")) {
            assertEquals(expected, step.get("trained_token_fraction").asDouble(), 1e-12, "step " + step.get("step"));
        }
    }

    @Test
    void randomLowersItsLossAtTheSameDensity() throws Exception {
        // Random draws, per example, as many positions as that example has critical tokens: same fraction.
        double expected = (double) criticalTokens / responseTokens;
        for (JsonNode step : train("random")) {
            assertEquals(expected, step.get("trained_token_fraction").asDouble(), 1e-12, "step " + step.get("step"));
        }
    }
}
