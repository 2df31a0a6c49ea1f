package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.testing.TorchTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA kill-and-resume is bit-exact (adapters, token-row deltas, AdamW state); --keep-checkpoints retention. */
class LoraResumeAndRetentionTest {
    @TempDir
    Path dir;

    static final List<String> TARGETS = List.of("q_proj", "v_proj", "down_proj");
    static final long[] TOKEN_ROWS = {60, 61, 63};

    static LoraModel lora(long baseSeed, long loraSeed) {
        return new LoraModel(ObjectiveTesting.tinyModel(baseSeed), 4, 8.0, TARGETS, loraSeed, TOKEN_ROWS);
    }

    @Test
    void loraResumeReproducesTheUninterruptedRunBitForBitOptimizerStateIncluded() throws Exception {
        long seed = TorchTesting.seed("lora resume");
        FineTuneConfig config = FineTunerTest.config(6, 2, 2, 2);
        LoraModel full = lora(seed, seed);
        FineTuner.train(full, FineTunerTest.stages(seed, 6), 0, config, TrainingOutput.to(dir.resolve("full")), null);

        Path out = dir.resolve("part");
        assertThrows(IllegalStateException.class, () -> FineTuner.train(lora(seed, seed), FineTunerTest.stages(seed, 6), 0, config,
                TrainingOutput.to(out), m -> { if (m.stepsDone() == 5) throw new IllegalStateException("killed"); }));
        assertEquals(out.resolve("checkpoint-4"), Checkpoints.latest(out));
        LoraModel resumed = lora(seed, seed + 1);   // other A init: every adapter must come from the checkpoint
        FineTuner.train(resumed, FineTunerTest.stages(seed, 6), 0, config, TrainingOutput.to(out).resuming(true), null);

        assertEquals(full.trainableParameters().keySet(), resumed.trainableParameters().keySet());
        assertTrue(full.trainableParameters().containsKey("model.embed_tokens.weight" + LoraModel.TOKEN_ROWS));
        for (Map.Entry<String, Tensor> e : full.trainableParameters().entrySet()) {
            assertTrue(e.getValue().abs().max().item_double() > 0, e.getKey() + " was never trained");
            assertTrue(resumed.trainableParameters().get(e.getKey()).equal(e.getValue()), e.getKey() + " differs after resume");
        }
        List<Map<String, Tensor>> stateFull = OptimizerStateFiles.byPosition(dir.resolve("full/checkpoint-6").resolve(Checkpoints.OPTIMIZER));
        List<Map<String, Tensor>> stateResumed = OptimizerStateFiles.byPosition(out.resolve("checkpoint-6").resolve(Checkpoints.OPTIMIZER));
        assertEquals(full.trainableParameters().size(), stateFull.size(), "one state per trained tensor");
        assertEquals(stateFull.size(), stateResumed.size());
        for (int i = 0; i < stateFull.size(); i++) {
            assertEquals(Set.of("exp_avg", "exp_avg_sq"), stateFull.get(i).keySet(), "AdamW moments of parameter " + i);
            assertEquals(stateFull.get(i).keySet(), stateResumed.get(i).keySet());
            for (String k : stateFull.get(i).keySet()) {
                assertTrue(stateFull.get(i).get(k).equal(stateResumed.get(i).get(k)), "optimizer state " + k + " of parameter " + i + " differs");
            }
        }
        try (SafetensorsFile a = SafetensorsFile.open(dir.resolve("full/final/model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(out.resolve("final/model.safetensors"))) {
            for (String name : a.tensors().keySet()) assertTrue(a.load(name).equal(b.load(name)), "final " + name + " differs");
        }
        assertEquals(6, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void resumingARunWithDifferentLoraSettingsIsRefusedNamingTheFile() throws Exception {
        long seed = TorchTesting.seed("lora mismatch");
        Path out = dir.resolve("m");
        FineTuner.train(lora(seed, seed), FineTunerTest.stages(seed, 2), 0, FineTunerTest.config(2, 2, 1, 1), TrainingOutput.to(out), null);
        LoraModel other = new LoraModel(ObjectiveTesting.tinyModel(seed), 4, 8.0, List.of("q_proj"), seed);
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> FineTuner.train(other, FineTunerTest.stages(seed, 3), 0,
                FineTunerTest.config(3, 2, 1, 1), TrainingOutput.to(out).resuming(true), null));
        assertTrue(e.getMessage().contains("trainable.safetensors"), e.getMessage());
    }

    static Set<String> checkpoints(Path out) throws Exception {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-")).collect(java.util.stream.Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void keepCheckpointsKeepsTheLatestNAndNeverTheResumedOneAway() throws Exception {
        long seed = TorchTesting.seed("retention");
        Path out = dir.resolve("keep");
        FineTuner.train(new FullFineTune(ObjectiveTesting.tinyModel(seed)), FineTunerTest.stages(seed, 6), 0,
                FineTunerTest.config(6, 2, 1, 1).toBuilder().keepCheckpoints(2).build(), TrainingOutput.to(out), null);
        assertEquals(Set.of("checkpoint-5", "checkpoint-6"), checkpoints(out), "save every step, keep 2");

        Path killed = dir.resolve("killed");
        assertThrows(IllegalStateException.class, () -> FineTuner.train(new FullFineTune(ObjectiveTesting.tinyModel(seed)),
                FineTunerTest.stages(seed, 6), 0, FineTunerTest.config(6, 2, 1, 2), TrainingOutput.to(killed),
                m -> { if (m.stepsDone() == 5) throw new IllegalStateException("killed"); }));
        assertEquals(Set.of("checkpoint-4"), checkpoints(killed), "keep 1 (the default): only the latest");
        // resume saving every step and keeping 1: 5 replaces nothing but 4 is protected, 6 replaces 5
        FineTuner.train(new FullFineTune(ObjectiveTesting.tinyModel(seed)), FineTunerTest.stages(seed, 6), 0,
                FineTunerTest.config(6, 2, 1, 1), TrainingOutput.to(killed).resuming(true), null);
        assertEquals(Set.of("checkpoint-4", "checkpoint-6"), checkpoints(killed));
        assertThrows(IllegalArgumentException.class, () -> FineTunerTest.config(6, 2, 1, 1).toBuilder().keepCheckpoints(0).build());
    }
}
