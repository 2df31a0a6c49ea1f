package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsFile;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training on two processes (two JVMs on 127.0.0.1, c10d's TCPStore + Gloo), against one
 * process training the same global batch in this JVM: the weights after N steps agree within fp32
 * summation order, for SFT and for CFT whose critical counts differ between the ranks; the two ranks hold
 * bit-identical weights; checkpoints record the world size, a resume with the same world size continues
 * to the uninterrupted weights, and a resume with another is refused; a rank killed or frozen makes the
 * other exit with a clear error within the timeout.
 */
class DataParallelTrainingTest {
    /**
     * Largest |w_2 ranks − w_1 process| allowed after {@link #STEPS} AdamW steps at lr 1e-2 (fp32): the
     * ranks sum the same per-token terms in another order (each rank's share, then the all-reduce), so the
     * gradients differ by float32 rounding. Adam divides each gradient by its own running RMS, so a rounding
     * difference in a small, cancelling gradient (an embedding row of a rare token) moves a weight by a
     * visible fraction of lr. Measured: 1.3e-5 (sft) and 5.8e-7 (cft), while one process against itself
     * with another accumulation split (4×2 vs 2×4, printed beside it) differs by 6.7e-5 (sft). 1e-4 is 1 %
     * of one step's largest update.
     */
    static final double TOLERANCE = 1e-4;
    static final int STEPS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path scratch;

    @Test
    void sftOnTwoRanksEqualsOneProcessAndRefusesAnotherWorldSizeOnResume() throws Exception {
        Path out = scratch.resolve("sft");
        List<Process> ranks = launch("sft", out, STEPS, 2, false, 30);
        awaitSuccess(ranks, out);
        compareWithOneProcess("sft", out);

        Path ckpt = Checkpoints.latest(out);
        assertEquals("checkpoint-" + STEPS, ckpt.getFileName().toString());
        assertEquals(2, Checkpoints.state(ckpt).path("world_size").asInt(), "the checkpoint records the world size");
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(STEPS, metrics.size(), "rank 0 alone writes one line per step");
        for (String line : metrics) assertTrue(JSON.readTree(line).path("allreduce_s").asDouble() > 0, line);

        // One process may not continue what two started: the batches of each step would change.
        FineTuneConfig longer = DataParallelWorker.config(STEPS + 2, 2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FineTuner.train(
                new FullFineTune(DataParallelWorker.model()), List.of(new TrainingStage("sft", DataParallelWorker.examples("sft"), STEPS + 2)),
                ObjectiveTesting.PAD, longer, TrainingOutput.to(out).resuming(true), null));
        assertTrue(e.getMessage().contains("written by a run of 2 processes and this run has 1"), e.getMessage());
        assertTrue(e.getMessage().contains("--nproc 2"), e.getMessage());
    }

    @Test
    void cftWithUnevenCriticalCountsEqualsOneProcessAndResumesWithTheSameWorldSize() throws Exception {
        // The premise: the ranks' shares of a step carry different numbers of critical tokens, so each
        // rank's own token mean would be wrong; only the global count normalises as one process does.
        List<WeightedExample> usable = DataParallelWorker.examples("cft").stream().filter(x -> x.trainableTokens() > 0).toList();
        BatchOrder<WeightedExample> order = new BatchOrder<>(usable, WeightedExample::length, 8, 0);
        int uneven = 0;
        for (int s = 0; s < STEPS; s++) {
            List<WeightedExample> step = order.next();
            if (ObjectiveTesting.tokens(FineTuner.slice(step, 0, 2)) != ObjectiveTesting.tokens(FineTuner.slice(step, 1, 2))) uneven++;
        }
        assertTrue(uneven >= STEPS / 2, "steps whose ranks hold different critical counts: " + uneven);

        Path out = scratch.resolve("cft");
        awaitSuccess(launch("cft", out, STEPS, 2, false, 30), out);
        compareWithOneProcess("cft", out);

        // Resume with the same world size: drop the last checkpoint, continue from checkpoint-2 on two ranks.
        Path full = scratch.resolve("cft-uninterrupted.safetensors");
        Files.move(out.resolve("rank-0.safetensors"), full);
        Checkpoints.deleteTree(out.resolve("checkpoint-" + STEPS));
        Checkpoints.deleteTree(out.resolve("final"));
        assertEquals("checkpoint-2", Checkpoints.latest(out).getFileName().toString());
        awaitSuccess(launch("cft", out, STEPS, 2, true, 30), out);
        try (SafetensorsFile a = SafetensorsFile.open(full); SafetensorsFile b = SafetensorsFile.open(out.resolve("rank-0.safetensors"))) {
            for (String name : a.tensors().keySet()) {
                assertTrue(torch.equal(a.load(name), b.load(name)), name + ": resumed on 2 ranks must equal the uninterrupted run");
            }
        }
        assertEquals(STEPS, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "metrics of steps 1-2 kept, 3-4 written again");
    }

    @Test
    void aKilledRankStopsTheOtherWithAClearErrorWithinTheTimeout() throws Exception {
        Path out = scratch.resolve("killed");
        List<Process> ranks = launch("sft", out, 100_000, 0, false, 10);
        awaitLine(ranks.get(1), out.resolve("rank-1.log"), "step 3");
        ranks.get(1).destroyForcibly();   // SIGKILL: no shutdown hook, the socket just closes
        long t0 = System.nanoTime();
        assertTrue(ranks.get(0).waitFor(30, TimeUnit.SECONDS), "rank 0 still runs 30 s after rank 1 was killed");
        double seconds = (System.nanoTime() - t0) / 1e9;
        String log = Files.readString(out.resolve("rank-0.log"));
        assertEquals(1, ranks.get(0).exitValue(), log);
        assertTrue(log.contains("error: rank 0 of 2: ") && log.contains("failed"), log);
        assertTrue(log.contains("another rank died"), log);
        System.out.printf("data-parallel: rank 0 stopped %.2f s after rank 1 was killed%n", seconds);
    }

    @Test
    void aFrozenRankStopsTheOtherWhenTheTimeoutRunsOut() throws Exception {
        Path out = scratch.resolve("frozen");
        List<Process> ranks = launch("sft", out, 100_000, 0, false, 5);
        try {
            awaitLine(ranks.get(1), out.resolve("rank-1.log"), "step 3");
            // SIGSTOP: the process lives and its sockets stay open, so only the timeout can end the wait.
            assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(ranks.get(1).pid())).start().waitFor());
            long t0 = System.nanoTime();
            assertTrue(ranks.get(0).waitFor(40, TimeUnit.SECONDS), "rank 0 still runs 40 s after rank 1 froze (timeout 5 s)");
            double seconds = (System.nanoTime() - t0) / 1e9;
            String log = Files.readString(out.resolve("rank-0.log"));
            assertEquals(1, ranks.get(0).exitValue(), log);
            assertTrue(log.contains("error: rank 0 of 2: ") && log.contains("within 5 s"), log);
            System.out.printf("data-parallel: rank 0 stopped %.2f s after rank 1 froze (timeout 5 s)%n", seconds);
        } finally {
            for (Process p : ranks) p.destroyForcibly();
        }
    }

    /** The one-process run of the same global batch (4 per micro-batch, 2 micro-batches), compared with both ranks' weights. */
    private void compareWithOneProcess(String objective, Path out) throws IOException {
        CausalLM single = DataParallelWorker.model();
        FineTuner.train(new FullFineTune(single), List.of(new TrainingStage(objective, DataParallelWorker.examples(objective), STEPS)),
                ObjectiveTesting.PAD, DataParallelWorker.config(STEPS, 0, 4), TrainingOutput.inMemory(), null);
        CausalLM resplit = DataParallelWorker.model();   // the noise floor: one process, 4 micro-batches of 2
        FineTuner.train(new FullFineTune(resplit), List.of(new TrainingStage(objective, DataParallelWorker.examples(objective), STEPS)),
                ObjectiveTesting.PAD, DataParallelWorker.config(STEPS, 0, 4).toBuilder().batch(2, 4).build(), TrainingOutput.inMemory(), null);
        double floor = 0;
        for (Map.Entry<String, Tensor> e : resplit.namedParameters().entrySet()) {
            floor = Math.max(floor, e.getValue().sub(single.namedParameters().get(e.getKey())).abs().max().item_double());
        }
        double worst = 0;
        try (SafetensorsFile r0 = SafetensorsFile.open(out.resolve("rank-0.safetensors"));
             SafetensorsFile r1 = SafetensorsFile.open(out.resolve("rank-1.safetensors"))) {
            Map<String, Tensor> expected = single.namedParameters();
            assertEquals(expected.keySet(), r0.tensors().keySet());
            for (Map.Entry<String, Tensor> e : expected.entrySet()) {
                Tensor a = r0.load(e.getKey()), b = r1.load(e.getKey());
                assertTrue(torch.equal(a, b), e.getKey() + ": the two ranks must hold bit-identical weights");
                double diff = a.sub(e.getValue()).abs().max().item_double();
                worst = Math.max(worst, diff);
                assertTrue(diff <= TOLERANCE, e.getKey() + ": |2 ranks - 1 process| = " + diff);
            }
            CausalLM start = DataParallelWorker.model();
            Tensor moved = start.namedParameters().values().iterator().next().sub(expected.values().iterator().next()).abs().max();
            assertTrue(moved.item_double() > 100 * TOLERANCE, "training moved the weights far more than the tolerance: " + moved.item_double());
        }
        System.out.printf("data-parallel %s: max |w(2 ranks) - w(1 process)| = %.3g after %d steps; one process split 4x2 vs 2x4: %.3g%n",
                objective, worst, STEPS, floor);
    }

    /** Starts the two ranks of a job as child JVMs (output to out/rank-r.log). */
    private List<Process> launch(String objective, Path out, int steps, int every, boolean resume, int timeoutSeconds) throws IOException {
        Files.createDirectories(out);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<Process> ranks = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xss4m", "-cp",
                    System.getProperty("java.class.path"), DataParallelWorker.class.getName(), objective, Integer.toString(rank), "2",
                    Integer.toString(port), out.toString(), Integer.toString(steps), Integer.toString(every), Boolean.toString(resume),
                    Integer.toString(timeoutSeconds));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.resolve("rank-" + rank + ".log").toFile());
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            ranks.add(pb.start());
        }
        return ranks;
    }

    private static void awaitSuccess(List<Process> ranks, Path out) throws Exception {
        try {
            for (int r = 0; r < ranks.size(); r++) {
                assertTrue(ranks.get(r).waitFor(120, TimeUnit.SECONDS), "rank " + r + " did not finish in 120 s");
                String log = Files.readString(out.resolve("rank-" + r + ".log"));
                assertEquals(0, ranks.get(r).exitValue(), "rank " + r + ": " + log);
                assertTrue(log.contains("done"), log);
            }
        } finally {
            for (Process p : ranks) p.destroyForcibly();
        }
    }

    private static void awaitLine(Process p, Path log, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.exists(log) || !Files.readString(log).contains(line)) {
            assertTrue(p.isAlive(), "the rank ended early: " + (Files.exists(log) ? Files.readString(log) : ""));
            assertTrue(System.nanoTime() < deadline, "no '" + line + "' after 90 s: " + Files.readString(log));
            Thread.sleep(20);
        }
    }
}
