package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.testing.TorchTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fine-tuning loop: accumulation invariance, exact resume, LoRA merged export, NaN stop. */
class FineTunerTest {
    @TempDir
    Path dir;

    static FineTuneConfig config(int steps, int micro, int accum, int every) {
        return FineTuneConfig.builder(steps).batch(micro, accum).learningRate(3e-3, 1).schedule(FineTuneConfig.Schedule.COSINE, 0.1)
                .weightDecay(0.01).maxGradNorm(1.0).seed(7).threads(1).deterministic(true).normalization(Normalization.TOKEN_MEAN)
                .checkpointEvery(every).build();
    }

    static List<TrainingStage> stages(long seed, int steps) {
        Random rnd = new Random(seed);
        return List.of(new TrainingStage("sft", ObjectiveTesting.randomExamples(rnd, 12, i -> rnd.nextBoolean() ? 1f : 0.5f), steps));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Normalization.class)
    void twoHalfBatchesEqualOneFullBatchAndTheReference(Normalization mode) {
        long seed = TorchTesting.seed("accumulation " + mode);
        CausalLM model = ObjectiveTesting.tinyModel(seed);
        List<WeightedExample> step = stages(seed, 1).get(0).data().subList(0, 4);
        model.requiresGrad(true);
        FineTuneConfig one = withMode(config(1, 4, 1, 0), mode), two = withMode(config(1, 2, 2, 0), mode);
        Map<String, Tensor> full = ObjectiveLossTest.grads(model, () -> FineTuner.accumulate(new FullFineTune(model), step, 0, one, 1));
        Map<String, Tensor> halves = ObjectiveLossTest.grads(model, () -> FineTuner.accumulate(new FullFineTune(model), step, 0, two, 1));
        Map<String, Tensor> ref = ObjectiveLossTest.grads(model, () -> ObjectiveTesting.referenceLoss(model, step, mode, false).backward());
        for (String name : full.keySet()) {
            assertTrue(TorchTesting.relErr(halves.get(name), full.get(name)) < 1e-5, name + ": 2 x half != 1 x full");
            assertTrue(TorchTesting.relErr(full.get(name), ref.get(name).to(ScalarType.Float)) < 1e-4, name + ": != float64 reference");
        }
        model.requiresGrad(false);
    }

    static FineTuneConfig withMode(FineTuneConfig c, Normalization mode) {
        return c.toBuilder().normalization(mode).build();
    }

    @Test
    void resumeFromCheckpointReproducesTheUninterruptedRunBitForBit() throws Exception {
        long seed = TorchTesting.seed("resume");
        CausalLM full = ObjectiveTesting.tinyModel(seed);
        FineTuner.train(new FullFineTune(full), stages(seed, 6), 0, config(6, 2, 2, 2), TrainingOutput.to(dir.resolve("full")), null);
        // an interrupted run: train 4 of the 6 scheduled steps (same schedule: a stage list of 6 steps,
        // stopped by a listener that throws after the step-4 checkpoint), then resume in a fresh model
        CausalLM part = ObjectiveTesting.tinyModel(seed);
        Path out = dir.resolve("part");
        assertThrows(IllegalStateException.class, () -> FineTuner.train(new FullFineTune(part), stages(seed, 6), 0, config(6, 2, 2, 2),
                TrainingOutput.to(out), m -> { if (m.stepsDone() == 5) throw new IllegalStateException("killed"); }));
        assertEquals(out.resolve("checkpoint-4"), Checkpoints.latest(out));
        CausalLM resumed = ObjectiveTesting.tinyModel(seed + 1);   // different start weights: all must come from the checkpoint
        FineTuner.train(new FullFineTune(resumed), stages(seed, 6), 0, config(6, 2, 2, 2), TrainingOutput.to(out).resuming(true), null);
        for (Map.Entry<String, Tensor> e : full.namedParameters().entrySet()) {
            assertTrue(resumed.namedParameters().get(e.getKey()).equal(e.getValue()), e.getKey() + " differs after resume");
        }
        assertEquals(6, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "one metrics line per step, none repeated");
        assertTrue(Files.isRegularFile(out.resolve("final/model.safetensors")));
        assertEquals(6, Checkpoints.state(Checkpoints.latest(out)).get("step").asInt());
    }

    @Test
    void loraTrainsOnlyAdaptersAndMergedExportMatchesTheAdaptedModel() throws Exception {
        long seed = TorchTesting.seed("lora");
        CausalLM base = ObjectiveTesting.tinyModel(seed);
        Map<String, Tensor> before = new java.util.LinkedHashMap<>();
        base.namedParameters().forEach((k, v) -> before.put(k, v.clone()));
        LoraModel lora = new LoraModel(base, 4, 8.0, List.of("q_proj", "v_proj", "down_proj"), seed);
        assertEquals(6, lora.adaptedWeights().size());
        FineTuner.train(lora, stages(seed, 4), 0, config(4, 2, 1, 0), TrainingOutput.to(dir.resolve("lora")), null);
        base.namedParameters().forEach((k, v) -> assertTrue(v.equal(before.get(k)), k + ": base weight changed"));

        Tensor ids = Tensor.create(new long[] {5, 9, 13, 20, 31, 2}).view(1, 6);
        // reference: per adapted linear, x·W^T + s·(x·A^T)·B^T in float64 on one layer's q_proj input
        String q = "model.layers.0.self_attn.q_proj.weight";
        Tensor x = torch.randn(new long[] {3, 32}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
        Tensor w = base.namedParameters().get(q).to(ScalarType.Double), la = lora.trainableParameters().get(q + ".lora_A").to(ScalarType.Double),
                lb = lora.trainableParameters().get(q + ".lora_B").to(ScalarType.Double);
        assertTrue(lb.abs().max().item_double() > 0, "B was trained");
        Tensor unmerged = torch.matmul(x, w.t()).add(torch.matmul(torch.matmul(x, la.t()), lb.t()).mul(new Scalar(2.0)));
        Tensor merged = torch.matmul(x, CausalLM.load(dir.resolve("lora/final"), new org.bytedeco.pytorch.Device("cpu"), ScalarType.Float)
                .namedParameters().get(q).to(ScalarType.Double).t());
        assertTrue(TorchTesting.relErr(merged, unmerged) < 1e-5, "merged weight = W + (alpha/r)·B·A");
        // whole model: exported (saved and reloaded) logits equal the adapted model's logits
        CausalLM exported = CausalLM.load(dir.resolve("lora/final"), new org.bytedeco.pytorch.Device("cpu"), ScalarType.Float);
        assertTrue(TorchTesting.relErr(exported.logits(ids, null), lora.forwardModel().logits(ids, null).detach()) < 1e-5);
        assertTrue(TorchTesting.relErr(exported.logits(ids, null), base.logits(ids, null)) > 1e-4, "the adapters changed the model");
    }

    @Test
    void nanLossStopsAndKeepsTheLastCheckpoint() throws Exception {
        long seed = TorchTesting.seed("nan");
        CausalLM model = ObjectiveTesting.tinyModel(seed);
        Path out = dir.resolve("nan");
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> FineTuner.train(new FullFineTune(model),
                stages(seed, 5), 0, config(5, 2, 1, 1), TrainingOutput.to(out), m -> {
                    if (m.stepsDone() == 2) try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                        model.namedParameters().get("model.norm.weight").fill_(new Scalar(Double.NaN));
                    }
                }));
        assertEquals(2, e.step());
        assertNotNull(Checkpoints.latest(out));
        assertEquals(out.resolve("checkpoint-2"), Checkpoints.latest(out));
        assertTrue(e.getMessage().contains("checkpoint-2"), e.getMessage());
    }

    /** The learning rate each step used (StepMetrics and metrics.jsonl) follows the linear schedule worked out by hand. */
    @Test
    void linearScheduleReachesTheOptimizerStepByStep() throws Exception {
        long seed = TorchTesting.seed("linear schedule");
        FineTuneConfig c = config(6, 2, 1, 0).toBuilder().learningRate(1e-3, 2).schedule(FineTuneConfig.Schedule.LINEAR, 0.25).build();
        List<Double> seen = new java.util.ArrayList<>();
        Path out = dir.resolve("linear");
        FineTuner.train(new FullFineTune(ObjectiveTesting.tinyModel(seed)), stages(seed, 6), 0, c, TrainingOutput.to(out),
                m -> seen.add(m.lr()));
        // warmup (s+1)/2 of the peak for steps 0, 1; then 1 - (s-2)/4 of the way from the peak to 0.25 x peak
        double[] expected = {0.5e-3, 1e-3, 1e-3, 1e-3 * (0.25 + 0.75 * 0.75), 1e-3 * (0.25 + 0.75 * 0.5), 1e-3 * (0.25 + 0.75 * 0.25)};
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        for (int s = 0; s < 6; s++) {
            assertEquals(expected[s], seen.get(s), 1e-15, "step " + s);
            assertEquals(expected[s], new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(s)).get("lr").asDouble(), 1e-15);
        }
    }
}
