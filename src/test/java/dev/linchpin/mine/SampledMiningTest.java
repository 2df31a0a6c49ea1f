package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.KvCache;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sampled mining end to end: {@code mine --rollouts 3 --temperature 0.8 --top-p 0.9 --failure-threshold 0.6}
 * on the fixture model. Checked against expectations computed here, not by the miner:
 * <ul>
 *   <li>every alternative's {@code failed} and every position's {@code critical} recomputed from the
 *       recorded verdicts and the threshold (an alternative fails iff at least 0.6 × 3, i.e. 2, of its
 *       continuations are wrong), and each record's critical list from those;</li>
 *   <li>every continuation of the first kept record regenerated independently: the Java model's logits,
 *       the documented counter RNG (u = SplitMix64 chained over seed, request id, step; the request id
 *       mixing (data position, t, alternative, rollout)) and the documented top-p rule, written again in
 *       this test; the verdict, answer and length must be the record's;</li>
 *   <li>sampling really happened (rollouts of one alternative differ), and records are byte-identical
 *       run to run and across batch sizes (a continuation depends on its request id only).</li>
 * </ul>
 */
class SampledMiningTest {
    static final int EXAMPLES = 8, ROLLOUTS = 3;
    static final double T = 0.8, TOP_P = 0.9, THRESHOLD = 0.6;
    static final long SEED = 5;

    @TempDir
    static Path scratch;
    static Path model, data, masks;

    @BeforeAll
    static void mineOnce() throws IOException {
        model = MiningFixture.modelDir(scratch);
        data = scratch.resolve("data.jsonl");
        MiningFixture.writeData(data, EXAMPLES, model);
        masks = scratch.resolve("sampled-b4.jsonl");
        mine(masks, 4);
    }

    static void mine(Path out, int batchSize) {
        List<String> args = MiningFixture.mineArgs(model, data, out, batchSize);
        args.addAll(List.of("--rollouts", String.valueOf(ROLLOUTS), "--temperature", String.valueOf(T), "--top-p",
                String.valueOf(TOP_P), "--failure-threshold", String.valueOf(THRESHOLD), "--seed", String.valueOf(SEED)));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void criticalityFollowsFromTheRecordedVerdictsAndTheThreshold() throws IOException {
        int positions = 0, critical = 0, failedAlts = 0, alts = 0, mixed = 0;
        for (MaskRecord r : MiningEndToEndTest.read(masks)) {
            List<Integer> expected = new ArrayList<>();
            for (MaskRecord.Position p : r.positions()) {
                positions++;
                boolean all = true;
                for (MaskRecord.Alternative a : p.alternatives()) {
                    assertEquals(ROLLOUTS, a.continuations().size());
                    long wrong = a.continuations().stream().filter(c -> !c.correct()).count();
                    boolean failed = wrong >= 2;   // ceil(0.6 * 3) = 2 wrong of 3
                    assertEquals(failed, a.failed(), r.id() + " t=" + p.t() + " alt " + a.token() + ": " + wrong + " wrong");
                    all &= failed;
                    alts++;
                    if (failed) failedAlts++;
                    if (wrong == 1 || wrong == 2) mixed++;
                }
                assertEquals(all, p.critical(), r.id() + " t=" + p.t());
                if (all) {
                    expected.add(p.t());
                    critical++;
                }
            }
            assertEquals(expected, r.critical(), r.id());
        }
        System.out.println("sampled mining: " + critical + "/" + positions + " critical, " + failedAlts + "/" + alts
                + " alternatives failed, " + mixed + " with mixed verdicts");
        assertTrue(positions > 0 && critical > 0 && critical < positions, critical + "/" + positions);
        assertTrue(mixed > 0, "some alternative has right and wrong continuations: the threshold matters");
    }

    @Test
    void everyContinuationIsReproducedByTheDocumentedRngAndSamplingRule() throws IOException {
        MiningOptions o = MiningFixture.options(4);
        CausalLM java = MiningFixture.javaModel(model);
        Verifier verifier = new Verifier();
        int checked = 0, keptChecked = 0, distinct = 0;
        try (Tokenizer tok = Tokenizer.load(model); PointerScope scope = new PointerScope()) {
            PromptEncoder prompts = PromptEncoder.of(tok, PromptEncoder.Style.AUTO, null, null);
            for (MaskRecord r : MiningEndToEndTest.read(masks)) {
                if (!r.kept() || keptChecked == 1) continue;
                keptChecked++;
                long[] prompt = prompts.encode(new Example(r.id(), r.question(), List.of(ChatMessage.user(r.question())), null,
                        r.gold(), data, 1));
                int budget = o.branchedResponseBudget(r.responseIds().length);
                for (MaskRecord.Position p : r.positions()) {
                    int t = p.t(), allowance = budget - t - 1;
                    for (int a = 0; a < p.alternatives().size(); a++) {
                        MaskRecord.Alternative alt = p.alternatives().get(a);
                        Set<String> outcomes = new HashSet<>();
                        for (int k = 0; k < ROLLOUTS; k++) {
                            long request = requestId(r.index(), t, a, k);
                            long[] prefix = MiningEndToEndTest.concat(MiningEndToEndTest.concat(prompt,
                                    Arrays.copyOf(r.responseIds(), t)), new long[] {alt.token()});
                            long[] cont = sample(java, prefix, allowance, request);
                            long[] branched = MiningEndToEndTest.concat(MiningEndToEndTest.concat(
                                    Arrays.copyOf(r.responseIds(), t), new long[] {alt.token()}), cont);
                            Verdict v = verifier.verify(tok.decode(branched, true), r.gold());
                            MaskRecord.Continuation c = alt.continuations().get(k);
                            String where = r.id() + " t=" + t + " alt " + a + " rollout " + k;
                            assertEquals(cont.length, c.tokens(), where);
                            assertEquals(v.correct(), c.correct(), where);
                            assertEquals(v.extracted(), c.answer(), where);
                            outcomes.add(Arrays.toString(cont));
                            checked++;
                        }
                        if (outcomes.size() > 1) distinct++;
                    }
                }
            }
        }
        System.out.println("sampled mining: " + checked + " continuations reproduced, " + distinct
                + " alternatives whose rollouts differ");
        assertTrue(keptChecked == 1 && checked > 0, "kept records checked: " + keptChecked);
        assertTrue(distinct > 0, "the rollouts of an alternative differ: sampling is on");
    }

    @Test
    void sampledRecordsAreByteIdenticalRunToRunAndAcrossBatchSizes() throws IOException {
        Path again = scratch.resolve("sampled-b4-again.jsonl"), single = scratch.resolve("sampled-b1.jsonl");
        mine(again, 4);
        mine(single, 1);
        assertArrayEquals(Files.readAllBytes(masks), Files.readAllBytes(again));
        assertArrayEquals(Files.readAllBytes(masks), Files.readAllBytes(single));
    }

    /**
     * One continuation as the engine documents it (linchpin.h, lp_engine_rollout_begin; token_choice.h):
     * at step s (tokens generated so far) u = counterUniform(seed, request, s); softmax(z / T) over the
     * tokens sorted by probability (ties to the lower id), cut to the shortest prefix holding top-p of
     * the mass, and the token where u × kept mass falls; stop after EOS (id 0) or {@code max} tokens.
     */
    static long[] sample(CausalLM model, long[] prefix, int max, long request) {
        List<Long> out = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            KvCache cache = model.newCache(1, prefix.length + Math.max(max, 1));
            Tensor input = Tensor.create(prefix).view(1, prefix.length);
            while (out.size() < max) {
                Tensor logits = model.forwardIncremental(input, cache);
                Tensor last = logits.select(1, logits.size(1) - 1).select(0, 0).to(ScalarType.Double).contiguous();
                double[] z = new double[(int) last.numel()];
                new DoublePointer(last.data_ptr()).get(z);
                long token = topP(z, counterUniform(SEED, request, out.size()));
                out.add(token);
                if (token == 0) break;
                input = Tensor.create(new long[] {token}).view(1, 1);
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    static long topP(double[] z, double u) {
        double m = Arrays.stream(z).max().orElseThrow();
        double[] p = new double[z.length];
        double total = 0;
        for (int v = 0; v < z.length; v++) total += p[v] = Math.exp((z[v] - m) / T);
        Integer[] order = new Integer[z.length];
        for (int v = 0; v < z.length; v++) order[v] = v;
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int keep = 0;
        double mass = 0;
        while (keep < z.length && (keep == 0 || mass < TOP_P * total)) mass += p[order[keep++]];
        double acc = 0;
        for (int k = 0; k < keep; k++) {
            acc += p[order[k]];
            if (u * mass < acc) return order[k];
        }
        return order[keep - 1];
    }

    /** SplitMix64 (Steele, Lea, Flood 2014): the increment, then the finaliser. */
    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The engine's counter RNG: a uniform in [0, 1) from (seed, request, step). */
    static double counterUniform(long seed, long request, long step) {
        long h = splitmix64(splitmix64(splitmix64(seed) ^ request) ^ step);
        return (h >>> 11) * 0x1.0p-53;
    }

    /** The miner's documented request id of (data position, t, alternative, rollout). */
    static long requestId(long index, int t, int alternative, int rollout) {
        long h = index * 0x9E3779B97F4A7C15L;
        h = finalise(h ^ t) * 0xC2B2AE3D27D4EB4FL;
        h = finalise(h ^ alternative) * 0x165667B19E3779F9L;
        return finalise(h ^ rollout) & Long.MAX_VALUE;
    }

    private static long finalise(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
