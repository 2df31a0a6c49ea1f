package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.cli.Main;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.Verdict;
import dev.linchpin.verify.Verifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin mine} end to end on the fixture model ({@link MiningFixture#modelDir}): D_correct
 * against the fixture's expectations, every branch against an independent brute-force rebuild with the
 * Java model's own greedy generation and double-precision top-k, determinism run to run and across
 * batch sizes.
 */
class MiningEndToEndTest {
    static final int EXAMPLES = 10;

    @TempDir
    static Path scratch;
    static Path model, data, masks;
    static boolean[] expectedKept;

    @BeforeAll
    static void mineOnce() throws IOException {
        model = MiningFixture.modelDir(scratch);
        data = scratch.resolve("data.jsonl");
        expectedKept = MiningFixture.writeData(data, EXAMPLES, model);
        masks = scratch.resolve("masks-b4.jsonl");
        mine(masks, 4);
    }

    static String mine(Path out, int batchSize) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = MiningFixture.mineArgs(model, data, out, batchSize);
        int status = Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, log);
        return log;
    }

    static List<MaskRecord> read(Path file) throws IOException {
        List<MaskRecord> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) out.add(MasksJson.fromLine(line));
        return out;
    }

    @Test
    void keptExamplesAreExactlyThoseWhoseGreedyAnswerIsTheGold() throws IOException {
        List<MaskRecord> records = read(masks);
        assertEquals(EXAMPLES, records.size());
        int kept = 0;
        for (int i = 0; i < EXAMPLES; i++) {
            MaskRecord r = records.get(i);
            assertEquals(String.format("ex-%03d", i), r.id(), "records follow data order");
            assertEquals(i, r.index());
            assertEquals(expectedKept[i], r.kept(), r.id());
            if (r.kept()) kept++;
            else assertTrue(r.positions().isEmpty() && r.critical().isEmpty(), r.id() + ": dropped examples have no positions");
        }
        assertTrue(kept >= 2 && kept < EXAMPLES, "fixture must keep some and drop some, kept " + kept);
        JsonNode summary = new ObjectMapper().readTree(MiningSummary.pathFor(masks).toFile());
        assertEquals(EXAMPLES, summary.get("examples").asLong());
        assertEquals(kept, summary.get("kept").asLong());
        assertEquals(EXAMPLES - kept, summary.get("dropped").asLong());
        long positions = records.stream().mapToLong(r -> r.positions().size()).sum();
        long critical = records.stream().mapToLong(r -> r.critical().size()).sum();
        assertEquals(positions, summary.get("positions").asLong());
        assertEquals(critical, summary.get("critical").asLong());
        assertTrue(summary.get("this_run").get("branch_tokens").asLong() > 0);
    }

    @Test
    void everyBranchMatchesAnIndependentRebuildWithTheJavaModel() throws IOException {
        int[] counts = bruteForceCheck(model, data, read(masks), new long[] {0}, MiningFixture.MAX_NEW,
                MiningFixture.options(4), Integer.MAX_VALUE);
        int positions = counts[0], critical = counts[1];
        System.out.println("fixture: " + critical + " of " + positions + " positions critical");
        assertTrue(positions > 0 && critical > 0 && critical < positions,
                "the fixture must have critical and non-critical positions: " + critical + "/" + positions);
    }

    /**
     * The brute-force cross-check: for up to {@code maxKept} kept records, the response is
     * rebuilt with the Java model's own greedy generation, each alternative's continuation is decoded
     * independently with {@link Generation#greedy} from (prompt, y_<t, alternative) and verified, and
     * every verdict, answer, length, probability and critical flag must equal the engine's record.
     *
     * @return {positions checked, critical positions}
     */
    static int[] bruteForceCheck(Path model, Path data, List<MaskRecord> records, long[] eos, int maxNew,
            MiningOptions o, int maxKept) throws IOException {
        CausalLM java = MiningFixture.javaModel(model);
        Verifier verifier = new Verifier();
        int positions = 0, critical = 0, keptChecked = 0;
        try (Tokenizer tok = Tokenizer.load(model); PointerScope scope = new PointerScope()) {
            PromptEncoder prompts = PromptEncoder.of(tok, PromptEncoder.Style.AUTO, null, null);
            for (MaskRecord r : records) {
                if (keptChecked >= maxKept) break;
                long[] prompt = prompts.encode(new Example(r.id(), r.question(), List.of(ChatMessage.user(r.question())), null,
                        r.gold(), data, 1));
                assertEquals(prompt.length, r.promptTokens());
                long[] response = Generation.greedy(java, prompt, maxNew, eos);
                assertArrayEquals(response, r.responseIds(), r.id() + ": response is the Java model's greedy decoding");
                assertEquals(verifier.verify(tok.decode(response, true), r.gold()).correct(), r.kept(), r.id());
                if (!r.kept()) continue;
                keptChecked++;
                assertEquals(response.length, r.positions().size(), r.id() + ": every position, EOS included");
                double[][] logits = logits(java, concat(prompt, response));
                int budget = Math.min(maxNew, response.length + o.branchMargin());
                List<Integer> expectedCritical = new ArrayList<>();
                for (MaskRecord.Position p : r.positions()) {
                    int t = p.t();
                    positions++;
                    assertEquals(response[t], p.token());
                    double[] probs = softmax(logits[prompt.length + t - 1]);
                    int[] order = rank(probs);
                    assertEquals(response[t], order[0], r.id() + " t=" + t + ": the response token is the arg-max");
                    assertEquals(probs[order[0]], p.p(), 1e-4);
                    boolean allFailed = true;
                    for (int a = 0; a < o.k(); a++) {
                        MaskRecord.Alternative alt = p.alternatives().get(a);
                        assertEquals(order[a + 1], alt.token(), r.id() + " t=" + t + ": alternative " + a + " is rank " + (a + 2));
                        assertEquals(probs[order[a + 1]], alt.p(), 1e-4);
                        long[] prefix = concat(concat(prompt, Arrays.copyOf(response, t)), new long[] {alt.token()});
                        int allowance = budget - t - 1;
                        long[] cont = allowance == 0 ? new long[0] : Generation.greedy(java, prefix, allowance, eos);
                        long[] branched = concat(concat(Arrays.copyOf(response, t), new long[] {alt.token()}), cont);
                        Verdict v = verifier.verify(tok.decode(branched, true), r.gold());
                        MaskRecord.Continuation c = alt.continuations().get(0);
                        assertEquals(v.correct(), c.correct(), r.id() + " t=" + t + " alt " + a);
                        assertEquals(v.extracted(), c.answer(), r.id() + " t=" + t + " alt " + a);
                        assertEquals(cont.length, c.tokens(), r.id() + " t=" + t + " alt " + a);
                        assertEquals(!v.correct(), alt.failed());
                        allFailed &= !v.correct();
                    }
                    assertEquals(allFailed, p.critical(), r.id() + " t=" + t);
                    if (allFailed) {
                        expectedCritical.add(t);
                        critical++;
                    }
                }
                assertEquals(expectedCritical, r.critical(), r.id());
            }
        }
        return new int[] {positions, critical};
    }

    @Test
    void masksAreByteIdenticalRunToRunAndAcrossBatchSizes() throws IOException {
        Path again = scratch.resolve("masks-b4-again.jsonl"), single = scratch.resolve("masks-b1.jsonl"),
                whole = scratch.resolve("masks-b10.jsonl");
        mine(again, 4);
        mine(single, 1);
        mine(whole, 10);
        byte[] expected = Files.readAllBytes(masks);
        assertArrayEquals(expected, Files.readAllBytes(again), "same arguments, same bytes");
        assertArrayEquals(expected, Files.readAllBytes(single), "batch size 1");
        assertArrayEquals(expected, Files.readAllBytes(whole), "one batch");
    }

    @Test
    void rerunningAFinishedRunAddsNothing() throws IOException {
        Path copy = scratch.resolve("masks-rerun.jsonl");
        Files.copy(masks, copy);
        String log = mine(copy, 4);
        assertTrue(log.contains("10 records done, 0 to go"), log);
        assertArrayEquals(Files.readAllBytes(masks), Files.readAllBytes(copy));
    }

    @Test
    void resumingWithOtherMiningSettingsIsRefusedButOtherBatchSizesAreFine() throws IOException {
        Path partial = scratch.resolve("masks-partial.jsonl");
        List<String> lines = Files.readAllLines(masks, StandardCharsets.UTF_8);
        Files.write(partial, lines.subList(0, 3), StandardCharsets.UTF_8);
        Files.copy(masks.resolveSibling(masks.getFileName() + ".options.json"),
                partial.resolveSibling(partial.getFileName() + ".options.json"));
        byte[] before = Files.readAllBytes(partial);

        List<String> args = MiningFixture.mineArgs(model, data, partial, 4);
        args.addAll(List.of("--k", "3"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, log);
        assertTrue(log.contains("k: was 2, now 3") && log.contains("new --out"), log);
        assertArrayEquals(before, Files.readAllBytes(partial), "a refused resume leaves the masks file alone");

        mine(partial, 2);   // batch size does not change records: resuming with another one is allowed
        assertArrayEquals(Files.readAllBytes(masks), Files.readAllBytes(partial));
    }

    @Test
    void aCudaEngineWithoutCudaIsAOneLineErrorAndWritesNothing() {
        dev.linchpin.testing.CudaTesting.assumeNoCudaBackend();
        Path out = scratch.resolve("masks-cuda.jsonl");
        List<String> args = MiningFixture.mineArgs(model, data, out, 4);
        args.addAll(List.of("--device", "cuda"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, log);
        assertTrue(log.contains("linchpin mine: error:") && log.contains(dev.linchpin.nativ.CudaBackend.unavailabilityReason()), log);
        assertTrue(Files.notExists(out) || readQuietly(out).isEmpty(), "no records without an engine");
    }

    private static List<String> readQuietly(Path p) {
        try {
            return Files.readAllLines(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void shardsPartitionTheDataAndTogetherEqualTheWholeRun() throws IOException {
        List<MaskRecord> all = read(masks);
        List<String> merged = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Path out = scratch.resolve("masks-shard" + s + ".jsonl");
            List<String> args = MiningFixture.mineArgs(model, data, out, 4);
            args.addAll(List.of("--shard", s + "/3"));
            assertEquals(0, Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(new ByteArrayOutputStream())));
            for (MaskRecord r : read(out)) assertEquals(s, r.index() % 3, r.id() + " in shard " + s);
            merged.addAll(Files.readAllLines(out));
        }
        List<String> expected = Files.readAllLines(masks);
        merged.sort(java.util.Comparator.comparing(l -> expected.indexOf(l)));
        assertEquals(expected, merged);
        assertEquals(all.size(), merged.size());
    }

    /** The Java model's logits of one sequence in double, [T][V]. */
    static double[][] logits(CausalLM model, long[] tokens) {
        try (PointerScope scope = new PointerScope()) {
            org.bytedeco.pytorch.Tensor l = model.logits(org.bytedeco.pytorch.Tensor.create(tokens).view(1, tokens.length), null)
                    .get(0).to(org.bytedeco.pytorch.global.torch.ScalarType.Double).contiguous();
            int v = model.config().vocabSize();
            double[] flat = new double[tokens.length * v];
            new org.bytedeco.javacpp.DoublePointer(l.data_ptr()).get(flat);
            double[][] out = new double[tokens.length][];
            for (int i = 0; i < tokens.length; i++) out[i] = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
            return out;
        }
    }

    static double[] softmax(double[] logits) {
        double max = Arrays.stream(logits).max().orElseThrow(), sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** Token ids by probability, highest first, ties to the lower id. */
    static int[] rank(double[] p) {
        return java.util.stream.IntStream.range(0, p.length).boxed()
                .sorted((a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b))
                .mapToInt(Integer::intValue).toArray();
    }

    static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
