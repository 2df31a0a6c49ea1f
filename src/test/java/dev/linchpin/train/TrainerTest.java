package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.testing.TorchTesting;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class TrainerTest {
    private static final List<TokenizedExample> DATA = TrainTesting.toyExamples(24, 17);

    private static TrainConfig config(int steps, long seed) {
        return new TrainConfig(steps, 8, 1e-2, 5, 0.1, 0.01, 1.0, seed, 2, true);
    }

    @Test
    void lossFallsOnLearnableData() {
        CausalLM model = TrainTesting.tinyModel(TorchTesting.seed("lossFallsOnLearnableData"));
        TrainResult r = Trainer.train(model, DATA, TrainTesting.PAD, config(60, 3), null);
        double first = r.meanLoss(0, 5), last = r.meanLoss(55, 60);
        System.out.printf("toy loss %.4f -> %.4f%n", first, last);
        // uniform over 40 tokens is ln 40 = 3.69; the shifted copy is learnable, so the loss must fall well below
        assertTrue(first > 2.5, "initial loss near ln(V): " + first);
        assertTrue(last < 0.5 * first, "loss did not halve: " + first + " -> " + last);
        assertEquals(60, r.losses().length);
        assertTrue(r.responseTokens() > 60 * 8, "response tokens counted");
        assertFalse(model.lmHeadWeight().requires_grad(), "requires_grad is switched off after training");
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsAndAnotherSeedDoesNot() {
        Map<String, Tensor> a = trained(7, 1), b = trained(7, 1), c = trained(7, 2);
        try (PointerScope scope = new PointerScope()) {
            boolean anyDiffers = false;
            for (String name : a.keySet()) {
                assertTrue(a.get(name).equal(b.get(name)), name + " differs between two runs with the same seeds");
                anyDiffers |= !a.get(name).equal(c.get(name));
            }
            assertTrue(anyDiffers, "a different data-order seed should change the weights");
        }
    }

    private static Map<String, Tensor> trained(long modelSeed, long dataSeed) {
        CausalLM model = TrainTesting.tinyModel(modelSeed);
        Trainer.train(model, DATA, TrainTesting.PAD, config(12, dataSeed), null);
        return model.namedParameters();
    }

    @Test
    void nonFiniteLossStopsWithTheStep() {
        CausalLM model = TrainTesting.tinyModel(TorchTesting.seed("nonFiniteLossStopsWithTheStep"));
        try (PointerScope scope = new PointerScope()) {
            model.namedParameters().get("model.norm.weight").fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        }
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> Trainer.train(model, DATA, TrainTesting.PAD, config(5, 1), null));
        assertEquals(0, e.step());
        assertTrue(e.getMessage().contains("diverged at step 0"), e.getMessage());
    }

    @Test
    void batchOrderVisitsEveryExampleOncePerEpoch() {
        Trainer.BatchOrder<TokenizedExample> order = new Trainer.BatchOrder<>(DATA, TokenizedExample::length, 5, 9);
        java.util.Set<TokenizedExample> seen = new java.util.HashSet<>();
        java.util.List<TokenizedExample> firstEpoch = new java.util.ArrayList<>();
        while (firstEpoch.size() < DATA.size()) firstEpoch.addAll(order.next());
        seen.addAll(firstEpoch.subList(0, DATA.size()));
        assertEquals(new java.util.HashSet<>(DATA), seen, "the first 24 drawn are a permutation of the data");
    }
}
