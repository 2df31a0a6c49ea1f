package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.testing.TinyModels;
import dev.linchpin.testing.TorchTesting;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link CausalLMEngines#updateWeights}: the engine follows a model that trains. The reference is the
 * Java model itself ({@link CausalLM#logits}, tested against float64 and transformers elsewhere),
 * evaluated after real SGD steps on a next-token loss (libtorch autograd); plus the refusals:
 * wrong shapes or NaN name the tensor and leave the engine unchanged, live trajectories block it.
 */
class RolloutEngineUpdateWeightsTest {
    private static final long BUDGET = 16L << 20;

    @Test
    void engineFollowsTheModelThroughSgdStepsForEveryFamily() {
        Random rnd = new Random(TorchTesting.seed("engine-update-weights"));
        for (Map.Entry<String, ModelConfig> e : TinyModels.tinyConfigs().entrySet()) {
            try (PointerScope scope = new PointerScope()) {
                ModelConfig c = e.getValue();
                CausalLM model = TinyModels.randomModel(c);
                long[] tokens = TinyModels.randomIds(rnd, 24, c.vocabSize());
                try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 1)) {
                    double[][] before = EngineTesting.javaLogits(model, tokens);
                    sgdSteps(model, tokens, 3, 0.5);
                    double[][] after = EngineTesting.javaLogits(model, tokens);
                    // The steps moved the model: the engine's old weights no longer give its logits.
                    assertTrue(EngineTesting.relErr(engine.logits(tokens), after) > 1e-3, e.getKey() + ": training did not move the logits");
                    assertTrue(EngineTesting.relErr(engine.logits(tokens), before) < 1e-4, e.getKey() + ": engine before update");

                    CausalLMEngines.updateWeights(engine, model);
                    double rel = EngineTesting.relErr(engine.logits(tokens), after);
                    assertTrue(rel < 1e-4, e.getKey() + ": relative error after update " + rel);
                }
            }
        }
    }

    @Test
    void wrongShapesAndNaNNameTheTensorAndLeaveTheEngineUnchanged() {
        try (PointerScope scope = new PointerScope()) {
            ModelConfig c = TinyModels.tinyConfigs().get("llama");
            CausalLM model = TinyModels.randomModel(c);
            long[] tokens = TinyModels.randomIds(new Random(TorchTesting.seed("engine-update-bad")), 10, c.vocabSize());
            double[][] expected = EngineTesting.javaLogits(model, tokens);
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 1)) {
                CausalLM wider = TinyModels.randomModel(TinyModels.base(c.family()).intermediateSize(80).build());
                IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> CausalLMEngines.updateWeights(engine, wider));
                assertTrue(shape.getMessage().contains("model.layers.0.mlp.gate_proj.weight")
                        && shape.getMessage().contains("[80, 64]"), shape.getMessage());

                CausalLM poisoned = TinyModels.randomModel(c);
                try (NoGradGuard noGrad = new NoGradGuard()) {
                    poisoned.namedParameters().get("model.layers.1.self_attn.v_proj.weight").view(-1).narrow(0, 5, 1)
                            .fill_(TorchTesting.s(Double.NaN));
                }
                IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> CausalLMEngines.updateWeights(engine, poisoned));
                assertTrue(nan.getMessage().contains("model.layers.1.self_attn.v_proj.weight"), nan.getMessage());

                CausalLM otherFamily = TinyModels.randomModel(TinyModels.base(dev.linchpin.model.ModelFamily.QWEN2).build());
                IllegalArgumentException family = assertThrows(IllegalArgumentException.class,
                        () -> CausalLMEngines.updateWeights(engine, otherFamily));
                assertTrue(family.getMessage().contains("q_proj.bias") || family.getMessage().contains("family"),
                        family.getMessage());

                assertThrows(IllegalArgumentException.class, () -> CausalLMEngines.updateWeights(engine, null));
                assertTrue(EngineTesting.relErr(engine.logits(tokens), expected) < 1e-4, "rejected updates left the engine unchanged");
            }
        }
    }

    @Test
    void liveTrajectoriesBlockAnUpdateUntilReleased() {
        try (PointerScope scope = new PointerScope()) {
            ModelConfig c = TinyModels.tinyConfigs().get("qwen3-headdim");
            CausalLM model = TinyModels.randomModel(c);
            CausalLM next = TinyModels.randomModel(c);
            long[] tokens = TinyModels.randomIds(new Random(TorchTesting.seed("engine-update-live")), 12, c.vocabSize());
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 1)) {
                Trajectory t = engine.prefill(List.of(tokens), 0).trajectories().get(0);
                IllegalStateException live = assertThrows(IllegalStateException.class, () -> CausalLMEngines.updateWeights(engine, next));
                assertTrue(live.getMessage().contains("1 trajectories are live"), live.getMessage());
                engine.release(t);
                CausalLMEngines.updateWeights(engine, next);
                assertTrue(EngineTesting.relErr(engine.logits(tokens), EngineTesting.javaLogits(next, tokens)) < 1e-4);
                assertEquals(0, engine.kvBytesInUse());
                assertEquals(EngineDevice.CPU, engine.device());
            }
        }
    }

    /** Plain SGD on the mean next-token negative log-likelihood of {@code tokens}, through libtorch autograd. */
    private static void sgdSteps(CausalLM model, long[] tokens, int steps, double lr) {
        model.requiresGrad(true);
        int t = tokens.length;
        for (int s = 0; s < steps; s++) {
            try (PointerScope scope = new PointerScope()) {
                Tensor ids = Tensor.create(tokens).view(1, t);
                Tensor logp = model.logits(ids, null).narrow(1, 0, t - 1).log_softmax(-1);
                Tensor targets = ids.narrow(1, 1, t - 1).view(1, t - 1, 1);
                Tensor loss = logp.gather(2, targets).mean().neg();
                loss.backward();
                try (NoGradGuard noGrad = new NoGradGuard()) {
                    for (Tensor p : model.parameters()) {
                        p.sub_(p.grad().mul(TorchTesting.s(lr)));
                        p.grad().zero_();
                    }
                }
            }
        }
        model.requiresGrad(false);
    }
}
