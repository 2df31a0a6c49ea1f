package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.Objectives;
import dev.linchpin.train.WeightedExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code linchpin train} on the embedded default: each objective lowers its loss; kill and resume is exact. */
class TrainCommandTest {
    @TempDir
    Path scratch;

    static Path defaultModel() throws Exception {
        return EmbeddedDefault.ensure(DefaultConfig.standard(), Progress.silent());
    }

    /** The first 16 test-split problems (unseen in the default's training), so a short run revisits each example. */
    Path smallData(Path model) throws Exception {
        Path f = scratch.resolve("small.jsonl");
        if (!Files.exists(f)) Files.write(f, Files.readAllLines(model.resolve("data/test.jsonl")).subList(0, 16));
        return f;
    }

    List<String> args(Path model, Path out, String objective, int steps, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", smallData(model).toString(),
                "--out", out.toString(), "--objective", objective, "--steps", String.valueOf(steps), "--batch-size", "4",
                "--lr", "3e-4", "--warmup-steps", "2", "--threads", "2", "--seed", "5", "--progress", "log"));
        a.addAll(List.of(more));
        return a;
    }

    static int run(List<String> args, ByteArrayOutputStream err) {
        return Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    static double[] losses(Path out) throws Exception {
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        double[] l = new double[lines.size()];
        for (int i = 0; i < l.length; i++) l[i] = new ObjectMapper().readTree(lines.get(i)).get("loss").asDouble();
        return l;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sft", "dft", "numeric"})
    void aShortRunOfEachObjectiveLowersItsTrainingLoss(String objective) throws Exception {
        Path model = defaultModel(), out = scratch.resolve(objective);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(args(model, out, objective, 24), err), err.toString());
        double[] l = losses(out);
        assertEquals(24, l.length);
        double first = (l[0] + l[1] + l[2] + l[3]) / 4, last = (l[20] + l[21] + l[22] + l[23]) / 4;
        System.out.printf("%s: loss %.4f -> %.4f%n", objective, first, last);
        assertTrue(last < first, objective + ": loss " + first + " -> " + last);
        assertTrue(Files.isRegularFile(out.resolve("final/model.safetensors")));
    }

    /**
     * SFTKey on the default, whose word-level tokenizer has no tag tokens: the tags are added and the model
     * resized (one log line), each stage lowers its loss, final/ carries the extended tokenizer, and the
     * stage-2 weights of one example decode to exactly "<Answer>N</Answer>" + EOS, with N read from the data.
     */
    @Test
    void sftKeyAddsTheTagsAndLowersTheLossInEachStage() throws Exception {
        Path model = defaultModel(), out = scratch.resolve("sftkey");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(args(model, out, "sftkey", 24), err), err.toString());
        String log = err.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("sftkey: the tokenizer has no single token for <Thinking> </Thinking> <Answer> </Answer>"), log);

        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(24, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (String stage : List.of("sftkey-1", "sftkey-2")) {
            List<Double> l = new ArrayList<>();
            for (String line : lines) {
                JsonNode n = json.readTree(line);
                if (n.get("stage").asText().equals(stage)) {
                    l.add(n.get("loss").asDouble());
                    double fraction = n.get("trained_token_fraction").asDouble();
                    assertTrue(stage.equals("sftkey-1") ? fraction == 1.0 : fraction > 0 && fraction < 0.5, stage + " fraction " + fraction);
                }
            }
            assertEquals(12, l.size(), stage);
            double first = (l.get(0) + l.get(1) + l.get(2)) / 3, last = (l.get(9) + l.get(10) + l.get(11)) / 3;
            System.out.printf("%s: loss %.4f -> %.4f%n", stage, first, last);
            assertTrue(last < first, stage + ": loss " + first + " -> " + last);
        }

        long oldVocab = json.readTree(model.resolve("config.json").toFile()).get("vocab_size").asLong();
        assertEquals(oldVocab + 4, json.readTree(out.resolve("final/config.json").toFile()).get("vocab_size").asLong());
        JsonNode firstExample = json.readTree(Files.readAllLines(smallData(model)).get(0));
        String solution = firstExample.get("answer").asText();
        String reasoning = solution.substring(0, solution.lastIndexOf("####")).strip();
        String answer = solution.substring(solution.lastIndexOf("####") + 4).strip();
        try (Tokenizer tok = Tokenizer.load(out.resolve("final"))) {
            for (String tag : List.of("<Thinking>", "</Thinking>", "<Answer>", "</Answer>")) assertEquals(1, tok.encode(tag, false).length, tag);
            long eos = tok.eosTokenIds().iterator().next();
            WeightedExample stage2 = Objectives.sftKey(tok, new long[] {eos}, solution, eos)[1];
            List<Long> weighted = new ArrayList<>(), unweighted = new ArrayList<>();
            long[] ids = stage2.response();
            float[] w = stage2.weights();
            for (int t = 0; t < ids.length; t++) (w[t] != 0f ? weighted : unweighted).add(ids[t]);
            assertEquals("<Answer>" + answer + "</Answer><|endoftext|>", tok.decode(weighted.stream().mapToLong(x -> x).toArray(), false));
            assertEquals("<Thinking>" + reasoning + "</Thinking>", tok.decode(unweighted.stream().mapToLong(x -> x).toArray(), false));
        }
    }

    /**
     * A resumed SFTKey run rebuilds the same extended tokenizer and resized model, then restores the
     * checkpoint: its final weights equal an uninterrupted run's bit for bit. The interruption is simulated
     * by deleting what a run killed after checkpoint-2 (in stage 1 of 3 steps) would not have written (the child-JVM kill is tested
     * for sft below).
     */
    @Test
    void sftKeyResumesAcrossTheStageBoundaryBitForBit() throws Exception {
        Path model = defaultModel(), reference = scratch.resolve("key-ref"), resumed = scratch.resolve("key-resumed");
        String[] det = {"--deterministic", "--save-every", "2", "--stage1-steps", "3"};
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(args(model, reference, "sftkey", 6, det), err), err.toString());
        assertEquals(0, run(args(model, resumed, "sftkey", 6, det), err), err.toString());
        for (String gone : List.of("final", "checkpoint-6", "checkpoint-4", TrainCommand.SFTKEY_TOKENIZER)) deleteTree(resumed.resolve(gone));
        assertEquals(0, run(args(model, resumed, "sftkey", 6, concat(det, "--resume")), err), err.toString());
        try (SafetensorsFile a = SafetensorsFile.open(reference.resolve("final/model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(resumed.resolve("final/model.safetensors"))) {
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (String name : a.tensors().keySet()) assertTrue(a.load(name).equal(b.load(name)), name + " differs after resume");
        }
        assertEquals(Files.readString(reference.resolve("final/tokenizer.json")), Files.readString(resumed.resolve("final/tokenizer.json")));
    }

    static void deleteTree(Path p) throws java.io.IOException {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    @Test
    void killedRunResumesToTheUninterruptedWeightsBitForBit() throws Exception {
        Path model = defaultModel(), reference = scratch.resolve("reference"), killed = scratch.resolve("killed");
        String[] det = {"--deterministic", "--save-every", "2"};
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(args(model, reference, "sft", 10, det), err), err.toString());

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args(model, killed, "sft", 10, det));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(scratch.resolve("child.log").toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.isDirectory(killed.resolve("checkpoint-4"))) {
            assertTrue(child.isAlive(), "child ended early: " + Files.readString(scratch.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "no checkpoint after 120 s: " + Files.readString(scratch.resolve("child.log")));
            Thread.sleep(5);
        }
        child.destroyForcibly();   // SIGKILL
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertTrue(!Files.isDirectory(killed.resolve("final")), "the child finished before it was killed");

        err.reset();
        assertEquals(0, run(args(model, killed, "sft", 10, concat(det, "--resume")), err), err.toString());
        try (SafetensorsFile a = SafetensorsFile.open(reference.resolve("final/model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(killed.resolve("final/model.safetensors"))) {
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (String name : a.tensors().keySet()) assertTrue(a.load(name).equal(b.load(name)), name + " differs after kill and resume");
        }
        assertEquals(10, losses(killed).length, "metrics: one line per step after resume");
    }

    static String[] concat(String[] a, String b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}
