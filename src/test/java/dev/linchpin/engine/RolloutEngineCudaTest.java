package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.nativ.BackendUnavailableException;
import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.testing.CudaTesting;
import dev.linchpin.testing.TinyModels;
import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The engine's CUDA backend against its CPU backend (which {@link RolloutEngineTest} holds to the Java
 * model at fp32 rel. 1e-4) and against the Java model directly, for every family: fp32 logits within
 * rel. 1e-4 and greedy generation and branch rollouts token for token; bf16 logits within rel. 3e-2
 * (bf16 keeps 8 significant bits, unit roundoff 2^-9 ≈ 2e-3; weights, GEMM inputs and cached K/V are
 * each rounded about ten times on the path to a logit in these 2-layer models, ~1e-2 together, so 3e-2
 * leaves a 3x margin; a float64 numpy simulation of exactly these roundings on these shapes gave
 * 0.66e-2 to 0.88e-2) with the CPU's arg-max wherever the CPU is confident (top-2 gap > 6x the row's
 * RMS bf16 deviation). GPU tests skip where there is no CUDA and fail where it is required or broken
 * ({@link CudaTesting#assumeCudaBackend()}); the test of the refusal without CUDA runs there instead.
 */
class RolloutEngineCudaTest {
    private static final long BUDGET = 64L << 20;

    @Test
    void withoutCudaACudaEngineIsRefusedWithTheReason() {
        CudaTesting.assumeNoCudaBackend();
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(TinyModels.tinyConfigs().get("llama"));
            for (EngineDevice device : List.of(EngineDevice.CUDA, EngineDevice.CUDA_BF16)) {
                BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                        () -> CausalLMEngines.fromModel(model, BUDGET, 1, device));
                assertTrue(e.getMessage().contains(CudaBackend.unavailabilityReason()), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> CausalLMEngines.fromModel(model, BUDGET, 1, null));
        }
    }

    @Test
    @Tag("gpu")
    void cudaLogitsAndGreedyTokensMatchTheCpuEngineForEveryFamily() {
        CudaTesting.assumeCudaBackend();
        Random rnd = new Random(TorchTesting.seed("engine-cuda-parity"));
        for (Map.Entry<String, ModelConfig> e : TinyModels.tinyConfigs().entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                ModelConfig c = e.getValue();
                CausalLM model = TinyModels.randomModel(c);
                long[] tokens = TinyModels.randomIds(rnd, 70, c.vocabSize());
                long[] prompt = TinyModels.randomIds(rnd, 5, c.vocabSize());
                long[] traj = TinyModels.randomIds(rnd, 20, c.vocabSize());
                double[][] java = EngineTesting.javaLogits(model, tokens);
                try (RolloutEngine cpu = CausalLMEngines.fromModel(model, BUDGET, 1);
                        RolloutEngine gpu = CausalLMEngines.fromModel(model, BUDGET, 1, EngineDevice.CUDA);
                        RolloutEngine bf16 = CausalLMEngines.fromModel(model, BUDGET, 1, EngineDevice.CUDA_BF16)) {
                    float[] ref = cpu.logits(tokens);
                    assertTrue(EngineTesting.relErr(gpu.logits(tokens), ref) < 1e-4, e.getKey() + ": fp32 CUDA vs CPU engine");
                    assertTrue(EngineTesting.relErr(gpu.logits(tokens), java) < 1e-4, e.getKey() + ": fp32 CUDA vs Java model");
                    float[] low = bf16.logits(tokens);
                    double rel = EngineTesting.relErr(low, ref);
                    assertTrue(rel < 3e-2, e.getKey() + ": bf16 relative error " + rel);
                    assertConfidentArgmaxAgrees(low, ref, c.vocabSize(), e.getKey());

                    assertArrayEquals(cpu.generate(prompt, 1, RolloutOptions.greedy(12)).get(0).tokens(),
                            gpu.generate(prompt, 1, RolloutOptions.greedy(12)).get(0).tokens(), e.getKey() + " generate");
                    assertEquals(branchTokens(cpu, traj), branchTokens(gpu, traj), e.getKey() + " branch rollouts");

                    assertEquals(cpu.kvBytesPerPosition(), gpu.kvBytesPerPosition());
                    assertEquals(gpu.kvBytesPerPosition(), 2 * bf16.kvBytesPerPosition(), "bf16 KV is half the device bytes");
                    assertEquals(0, gpu.kvBytesInUse());
                }
            }
        }
    }

    @Test
    @Tag("gpu")
    void aCudaEngineFollowsTheModelAfterUpdateWeights() {
        CudaTesting.assumeCudaBackend();
        try (PointerScope scope = new PointerScope()) {
            ModelConfig c = TinyModels.tinyConfigs().get("olmo2-mha");
            CausalLM model = TinyModels.randomModel(c);
            long[] tokens = TinyModels.randomIds(new Random(TorchTesting.seed("engine-cuda-update")), 24, c.vocabSize());
            try (RolloutEngine gpu = CausalLMEngines.fromModel(model, BUDGET, 1, EngineDevice.CUDA)) {
                try (NoGradGuard noGrad = new NoGradGuard()) {
                    for (Tensor p : model.parameters()) p.add_(TorchTesting.randn(org.bytedeco.pytorch.global.torch.ScalarType.Float, p.sizes().vec().get())
                            .mul(TorchTesting.s(0.05)));
                }
                double[][] expected = EngineTesting.javaLogits(model, tokens);
                assertTrue(EngineTesting.relErr(gpu.logits(tokens), expected) > 1e-3, "the perturbation moved the logits");
                CausalLMEngines.updateWeights(gpu, model);
                assertTrue(EngineTesting.relErr(gpu.logits(tokens), expected) < 1e-4, "CUDA engine after updateWeights");
            }
        }
    }

    private static List<List<Long>> branchTokens(RolloutEngine engine, long[] traj) {
        PrefillResult pre = engine.prefill(List.of(traj), 0);
        Trajectory t = pre.trajectories().get(0);
        List<Branch> branches = new ArrayList<>();
        int[] points = {0, 1, 9, 19, 20};
        for (int i = 0; i < points.length; i++) branches.add(new Branch(t, points[i], (7L * i + 3) % 128, i));
        List<List<Long>> out = new ArrayList<>();
        RolloutOptions options = RolloutOptions.greedy(10);
        for (RolloutOutput o : engine.rollout(branches, options)) {
            List<Long> tokens = new ArrayList<>();
            for (long x : o.tokens()) tokens.add(x);
            out.add(tokens);
        }
        engine.release(t);
        return out;
    }

    private static void assertConfidentArgmaxAgrees(float[] low, float[] ref, int v, String what) {
        int rows = ref.length / v, checked = 0;
        for (int r = 0; r < rows; r++) {
            int best = 0, lowBest = 0;
            double ss = 0;
            for (int i = 0; i < v; i++) {
                if (ref[r * v + i] > ref[r * v + best]) best = i;
                if (low[r * v + i] > low[r * v + lowBest]) lowBest = i;
                double d = low[r * v + i] - ref[r * v + i];
                ss += d * d;
            }
            double second = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < v; i++) if (i != best) second = Math.max(second, ref[r * v + i]);
            if (ref[r * v + best] - second <= 6 * Math.sqrt(ss / v)) continue;
            checked++;
            assertEquals(best, lowBest, what + ": bf16 arg-max at confident row " + r);
        }
        assertTrue(checked > rows / 4, what + ": only " + checked + " confident rows");
    }
}
