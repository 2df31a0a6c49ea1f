package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.distributed.Rendezvous;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin train} as a rank of a data-parallel job: torchrun's environment variables become the
 * job's {@link Rendezvous}, bad ones are clear errors, and {@code --nproc 2} starts two ranks that train
 * one model together (rank 0 writes, every line forwarded with its rank).
 */
class TrainDataParallelCommandTest {
    @TempDir
    Path scratch;

    private static TrainCommand withEnvironment(Map<String, String> env) {
        TrainCommand c = new TrainCommand();
        c.environment = env;
        c.distTimeout = 42;
        return c;
    }

    @Test
    void torchrunsEnvironmentBecomesTheRendezvous() {
        Rendezvous r = withEnvironment(Map.of("RANK", "1", "WORLD_SIZE", "4", "MASTER_ADDR", " 10.0.0.7 ", "MASTER_PORT", "29500", "LOCAL_RANK", "1"))
                .rendezvous();
        assertEquals(new Rendezvous(1, 4, "10.0.0.7", 29500, 1, Duration.ofSeconds(42)), r);
        assertNull(withEnvironment(Map.of()).rendezvous(), "no WORLD_SIZE: one process");
        assertNull(withEnvironment(Map.of("WORLD_SIZE", "1", "RANK", "0")).rendezvous(), "WORLD_SIZE=1: one process");
    }

    @Test
    void incompleteOrMalformedVariablesAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withEnvironment(Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1")).rendezvous());
        assertTrue(e.getMessage().contains("MASTER_PORT is not set"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> withEnvironment(Map.of("RANK", "x", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1")).rendezvous());
        assertTrue(e.getMessage().contains("RANK must be an integer, got 'x'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> withEnvironment(Map.of("RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "1")).rendezvous());
        assertTrue(e.getMessage().contains("RANK must be in [0, 2), got 2"), e.getMessage());
    }

    @Test
    void nprocIsRemovedFromTheRanksCommandLine() {
        assertEquals(List.of("train", "--steps", "3", "--out", "o"),
                LocalRanks.withoutNproc(List.of("train", "--nproc", "2", "--steps", "3", "--nproc=4", "--out", "o")));
    }

    @Test
    void nprocTwoTrainsOnTwoRanksAndRankZeroWrites() throws Exception {
        Path model = TrainCommandTest.defaultModel(), out = scratch.resolve("out");
        Path data = scratch.resolve("small.jsonl");
        Files.write(data, Files.readAllLines(model.resolve("data/test.jsonl")).subList(0, 8));
        ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"train", "--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--steps", "3", "--batch-size", "2", "--threads", "1", "--progress", "log", "--nproc", "2", "--dist-timeout", "60"},
                new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
        String err = stderr.toString(StandardCharsets.UTF_8), outText = stdout.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, err + outText);
        assertTrue(err.contains("[rank 0] ") && err.contains("data-parallel: 2 processes (gloo), a global step of 4 sequences"), err);
        assertTrue(outText.contains("[rank 0] wrote " + out.resolve("final")), outText);
        assertTrue(!outText.contains("[rank 1] wrote"), "rank 1 reports nothing: " + outText);
        assertTrue(Files.isRegularFile(out.resolve("final/model.safetensors")));
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(3, metrics.size());
        for (String line : metrics) assertTrue(new ObjectMapper().readTree(line).path("allreduce_s").asDouble() > 0, line);
    }

    @Test
    void aFailingRankFailsTheJob() throws Exception {
        Path model = TrainCommandTest.defaultModel();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream(), stderr = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"train", "--model", model.toString(), "--data", scratch.resolve("missing.jsonl").toString(),
                "--out", scratch.resolve("o").toString(), "--steps", "1", "--nproc", "2", "--dist-timeout", "20"},
                new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
        String err = stderr.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, err);
        assertTrue(err.contains("[rank 0] linchpin train: error: ") && err.contains("missing.jsonl"), err);
        assertTrue(err.contains("data-parallel training on 2 processes failed"), err);
    }
}
