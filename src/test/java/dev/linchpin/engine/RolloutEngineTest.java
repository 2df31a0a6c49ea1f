package dev.linchpin.engine;

import dev.linchpin.testing.TinyModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * The engine against the Java model ({@link CausalLM}, itself tested against a float64 reference and
 * transformers): logits of every family, greedy generation and branch rollouts token for token,
 * top-n alternatives, log-prob and entropy; plus continuous batching == one at a time, seeded
 * sampling, and argument validation.
 */
class RolloutEngineTest {
    private static final long BUDGET = 64L << 20;

    @Test
    void logitsMatchTheJavaModelForEveryFamily() {
        Random rnd = new Random(TorchTesting.seed("engine-logits"));
        for (Map.Entry<String, ModelConfig> e : TinyModels.tinyConfigs().entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                CausalLM model = TinyModels.randomModel(e.getValue());
                long[] tokens = TinyModels.randomIds(rnd, 70, e.getValue().vocabSize());   // crosses a 64-position tile
                double[][] expected = EngineTesting.javaLogits(model, tokens);
                try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 2)) {
                    assertEquals("CPU, fp32 weights and KV, own GEMM up to 96 rows and OpenBLAS above, 2 threads", engine.describe());
                    float[] actual = engine.logits(tokens);
                    double num = 0, den = 0;
                    int v = e.getValue().vocabSize();
                    for (int t = 0; t < tokens.length; t++) {
                        for (int i = 0; i < v; i++) {
                            double d = actual[t * v + i] - expected[t][i];
                            num += d * d;
                            den += expected[t][i] * expected[t][i];
                        }
                    }
                    double rel = Math.sqrt(num / den);
                    assertTrue(rel < 1e-4, e.getKey() + ": relative error " + rel);
                    assertEquals(0, engine.kvBytesInUse(), "logits() releases its trajectory");
                }
            }
        }
    }

    @Test
    void greedyGenerationAndBranchRolloutsMatchJavaGreedyTokenForToken() {
        Random rnd = new Random(TorchTesting.seed("engine-greedy"));
        for (Map.Entry<String, ModelConfig> e : TinyModels.tinyConfigs().entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                ModelConfig c = e.getValue();
                CausalLM model = TinyModels.randomModel(c);
                long[] prompt = TinyModels.randomIds(rnd, 5, c.vocabSize());
                try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 1)) {
                    List<RolloutOutput> gen = engine.generate(prompt, 2, RolloutOptions.greedy(12));
                    long[] expected = Generation.greedy(model, prompt, 12, new long[0]);
                    assertArrayEquals(expected, gen.get(0).tokens(), e.getKey() + " generate");
                    assertArrayEquals(expected, gen.get(1).tokens(), e.getKey() + " second greedy sample");

                    // Branches at 0, mid and end of a trajectory, forced to its top-2/3 alternatives.
                    long[] traj = TinyModels.randomIds(rnd, 20, c.vocabSize());
                    PrefillResult pre = engine.prefill(List.of(traj), 3);
                    Trajectory t = pre.trajectories().get(0);
                    List<Branch> branches = new ArrayList<>();
                    int[] points = {0, 1, 9, 19, 20};
                    for (int p : points) {
                        long alt = p == 0 ? 7 : pre.topIds().get(0)[(p - 1) * 3 + 1];
                        branches.add(new Branch(t, p, alt, p));
                    }
                    List<RolloutOutput> out = engine.rollout(branches, RolloutOptions.greedy(8).withMaxBatch(2));
                    for (int i = 0; i < branches.size(); i++) {
                        Branch b = branches.get(i);
                        long[] prefix = EngineTesting.concat(traj, b.point(), b.forcedToken());
                        assertArrayEquals(Generation.greedy(model, prefix, 8, new long[0]), out.get(i).tokens(),
                                e.getKey() + " branch at " + b.point());
                    }
                    engine.release(t);
                    assertEquals(0, engine.kvBytesInUse());
                }
            }
        }
    }

    @Test
    void topAlternativesLogProbAndEntropyMatchTheJavaModel() {
        Random rnd = new Random(TorchTesting.seed("engine-topk"));
        ModelConfig c = TinyModels.tinyConfigs().get("qwen3-headdim");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(c);
            long[] traj = TinyModels.randomIds(rnd, 12, c.vocabSize());
            double[][] logits = EngineTesting.javaLogits(model, traj);
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 2)) {
                PrefillResult pre = engine.prefill(List.of(traj), 3);
                for (int t = 0; t < traj.length; t++) {
                    double[] p = softmax(logits[t]);
                    Integer[] order = new Integer[p.length];
                    for (int i = 0; i < p.length; i++) order[i] = i;
                    Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
                    for (int k = 0; k < 3; k++) {
                        assertEquals((long) order[k], pre.topIds().get(0)[t * 3 + k], "position " + t + " rank " + k);
                        assertEquals(p[order[k]], pre.topProbs().get(0)[t * 3 + k], 1e-5, "probability at " + t);
                    }
                }
                // One greedy branch continuing the whole trajectory: log-prob and entropy from Java logits.
                Trajectory t = pre.trajectories().get(0);
                RolloutOutput o = engine.rollout(List.of(new Branch(t, 12, 5, 0)), RolloutOptions.greedy(6)).get(0);
                long[] seq = EngineTesting.concat(traj, 12, 5);
                seq = EngineTesting.concat(seq, seq.length, o.tokens());
                double[][] full = EngineTesting.javaLogits(model, seq);
                double sumLogProb = 0, sumEntropy = 0;
                for (int s = 0; s < o.tokens().length; s++) {
                    double[] p = softmax(full[12 + s]);
                    sumLogProb += Math.log(p[(int) o.tokens()[s]]);
                    for (double q : p) sumEntropy -= q > 0 ? q * Math.log(q) : 0;
                }
                assertEquals(sumLogProb, o.sumLogProb(), 1e-4 * Math.max(1, Math.abs(sumLogProb)));
                assertEquals(sumEntropy / o.tokens().length, o.meanEntropy(), 1e-4);
            }
        }
    }

    @Test
    void continuousBatchingGivesTheSameOutputsAsOneAtATime() {
        Random rnd = new Random(TorchTesting.seed("engine-batching"));
        ModelConfig c = TinyModels.tinyConfigs().get("llama");
        try (PointerScope scope = new PointerScope(); RolloutEngine engine = CausalLMEngines.fromModel(
                TinyModels.randomModel(c), BUDGET, 2)) {
            List<long[]> trajs = List.of(TinyModels.randomIds(rnd, 30, c.vocabSize()), TinyModels.randomIds(rnd, 17, c.vocabSize()));
            PrefillResult pre = engine.prefill(trajs, 3);
            List<Branch> branches = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                Trajectory t = pre.trajectories().get(i % 2);
                branches.add(new Branch(t, rnd.nextInt(t.length() + 1), rnd.nextInt(c.vocabSize()), i));
            }
            // An EOS that ends some branches early and others not at all, so that slots are refilled: picked
            // from an EOS-free run (greedy and seeded sampling give the same tokens up to the stop).
            for (boolean sampled : new boolean[] {false, true}) {
                RolloutOptions free = sampled ? RolloutOptions.sampling(10, 1.3, 0.9, 11) : RolloutOptions.greedy(10);
                long eos = tokenEndingSomeBranchesOnly(engine.rollout(branches, free.withMaxBatch(1)));
                RolloutOptions base = sampled ? RolloutOptions.sampling(10, 1.3, 0.9, 11, eos) : RolloutOptions.greedy(10, eos);
                List<RolloutOutput> single = engine.rollout(branches, base.withMaxBatch(1));
                List<RolloutOutput> batched = engine.rollout(branches, base.withMaxBatch(5));
                List<RolloutOutput> streamed = new ArrayList<>();
                engine.rollout(branches, base.withMaxBatch(64), streamed::add);
                assertEquals(branches.size(), streamed.size());
                boolean lengthsDiffer = false;
                for (RolloutOutput s : streamed) {
                    assertArrayEquals(single.get(s.index()).tokens(), s.tokens(), "streamed branch " + s.index());
                }
                for (int i = 0; i < branches.size(); i++) {
                    assertArrayEquals(single.get(i).tokens(), batched.get(i).tokens(), "branch " + i);
                    assertEquals(single.get(i).sumLogProb(), batched.get(i).sumLogProb(), 1e-4);
                    assertEquals(single.get(i).meanEntropy(), batched.get(i).meanEntropy(), 1e-4);
                    lengthsDiffer |= single.get(i).tokens().length != single.get(0).tokens().length;
                }
                assertTrue(lengthsDiffer, "EOS ends branches at different steps");
            }
        }
    }

    /** A token that branch 0 emits before its last step and some other branch never emits. */
    private static long tokenEndingSomeBranchesOnly(List<RolloutOutput> unstopped) {
        long[] first = unstopped.get(0).tokens();
        for (int i = 0; i < first.length - 1; i++) {
            long t = first[i];
            for (RolloutOutput o : unstopped) {
                if (java.util.Arrays.stream(o.tokens()).noneMatch(x -> x == t)) return t;
            }
        }
        throw new AssertionError("every branch emits every token of branch 0: cannot make an EOS that ends only some");
    }

    @Test
    void samplingIsReproducibleUnderASeedAndStopsAtStopSequences() {
        ModelConfig c = TinyModels.tinyConfigs().get("olmo2-mha");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(c);
            long[] prompt = {3, 14, 15, 92, 65};
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 1)) {
                List<RolloutOutput> a = engine.generate(prompt, 6, RolloutOptions.sampling(16, 1.5, 0.95, 7));
                List<RolloutOutput> b = engine.generate(prompt, 6, RolloutOptions.sampling(16, 1.5, 0.95, 7).withMaxBatch(2));
                List<RolloutOutput> other = engine.generate(prompt, 6, RolloutOptions.sampling(16, 1.5, 0.95, 8));
                boolean samplesDiffer = false, seedsDiffer = false;
                for (int i = 0; i < 6; i++) {
                    assertArrayEquals(a.get(i).tokens(), b.get(i).tokens(), "sample " + i);
                    samplesDiffer |= !Arrays.equals(a.get(i).tokens(), a.get(0).tokens());
                    seedsDiffer |= !Arrays.equals(a.get(i).tokens(), other.get(i).tokens());
                }
                assertTrue(samplesDiffer, "samples of one prompt differ (request ids key the RNG)");
                assertTrue(seedsDiffer, "another seed gives other samples");
                long[] greedy = Generation.greedy(model, prompt, 16, new long[0]);
                assertArrayEquals(greedy, engine.generate(prompt, 1, RolloutOptions.sampling(16, 1.0, 1e-9, 1)).get(0).tokens(),
                        "top-p ~ 0 keeps only the arg-max");
                // Stop sequence = generated tokens 3..4 of the greedy output: stops right after them.
                long[] stop = Arrays.copyOfRange(greedy, 3, 5);
                int end = 0;
                while (!(greedy[end] == stop[0] && greedy[end + 1] == stop[1])) end++;
                RolloutOutput stopped = engine.generate(prompt, 1, RolloutOptions.greedy(16).withStopSequences(List.of(stop))).get(0);
                assertArrayEquals(Arrays.copyOf(greedy, end + 2), stopped.tokens());
            }
        }
    }

    @Test
    void badArgumentsAndTheKvBudgetGiveClearErrors() {
        ModelConfig c = TinyModels.tinyConfigs().get("qwen2-tied");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(c);
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, 40 * 2 * 2 * 2 * 16 * 4L, 1)) {   // 40 positions
                assertEquals(2 * 2 * 2 * 16 * 4L, engine.kvBytesPerPosition());
                var e1 = assertThrows(IllegalArgumentException.class, () -> engine.prefill(List.of(new long[] {1, 128}), 2));
                assertTrue(e1.getMessage().contains("token 128"), e1.getMessage());
                Trajectory t = engine.prefill(List.of(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), 2).trajectories().get(0);
                var e2 = assertThrows(IllegalArgumentException.class,
                        () -> engine.rollout(List.of(new Branch(t, 11, 1, 0)), RolloutOptions.greedy(4)));
                assertTrue(e2.getMessage().contains("point 11"), e2.getMessage());
                assertThrows(IllegalArgumentException.class, () -> engine.rollout(List.of(new Branch(t, 3, -1, 0)), RolloutOptions.greedy(4)));
                var e3 = assertThrows(KvBudgetExceededException.class, () -> engine.prefill(List.of(new long[31]), 0));
                assertTrue(e3.getMessage().startsWith("KV budget exceeded"), e3.getMessage());
                var e4 = assertThrows(KvBudgetExceededException.class,
                        () -> engine.rollout(List.of(new Branch(t, 3, 1, 0)), RolloutOptions.greedy(31)));
                assertTrue(e4.getMessage().contains("one branch slot"), e4.getMessage());
                // 30 positions left: with maxNew 10, three slots fit; 8 branches still all finish.
                List<Branch> many = new ArrayList<>();
                for (int i = 0; i < 8; i++) many.add(new Branch(t, i, i, i));
                assertEquals(8, engine.rollout(many, RolloutOptions.greedy(10)).size());
                engine.release(t);
                assertThrows(IllegalArgumentException.class, () -> engine.release(t));
                assertThrows(IllegalArgumentException.class, () -> engine.rollout(List.of(new Branch(t, 1, 1, 0)), RolloutOptions.greedy(2)));
                assertThrows(IllegalArgumentException.class, () -> RolloutOptions.sampling(4, 1.0, 0.0, 1));
            }
            RolloutEngine closed = CausalLMEngines.fromModel(model, BUDGET, 1);
            closed.close();
            closed.close();
            assertThrows(IllegalStateException.class, () -> closed.logits(new long[] {1}));
        }
    }

    @Test
    void loadsAHuggingFaceDirectoryWithTheSameLogits(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        ModelConfig c = TinyModels.tinyConfigs().get("llama3-rope-biases");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(c);
            model.save(dir, null);
            long[] tokens = {5, 9, 2, 77, 31, 64, 1};
            double[][] expected = EngineTesting.javaLogits(model, tokens);
            try (RolloutEngine engine = RolloutEngine.fromHuggingFace(dir, BUDGET, 1)) {
                float[] actual = engine.logits(tokens);
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < c.vocabSize(); v++) {
                        assertEquals(expected[t][v], actual[t * c.vocabSize() + v], 1e-4 * (1 + Math.abs(expected[t][v])));
                    }
                }
            }
            java.nio.file.Files.delete(dir.resolve("model.safetensors"));
            var e = assertThrows(java.io.IOException.class, () -> RolloutEngine.fromHuggingFace(dir, BUDGET, 1));
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        }
    }

    private static double[] softmax(double[] z) {
        double m = Double.NEGATIVE_INFINITY, s = 0;
        for (double v : z) m = Math.max(m, v);
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) s += p[i] = Math.exp(z[i] - m);
        for (int i = 0; i < z.length; i++) p[i] /= s;
        return p;
    }
}
