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

/**
 * {@link FineTuner} as the embedded default uses it: plain SFT (every response token weighted 1), one stage,
 * nothing written ({@link TrainingOutput#inMemory()}).
 */
class FineTunerPretrainingTest {
    private static final List<WeightedExample> DATA = TrainTesting.toyExamples(24, 17);

    private static FineTuneConfig config(int steps, long seed) {
        return FineTuneConfig.builder(steps).batch(8, 1).learningRate(1e-2, 5).schedule(FineTuneConfig.Schedule.COSINE, 0.1)
                .weightDecay(0.01).maxGradNorm(1.0).seed(seed).threads(2).deterministic(true).build();
    }

    private static TrainResult train(CausalLM model, FineTuneConfig config) throws java.io.IOException {
        return TrainTesting.sft(model, DATA, config);
    }

    @Test
    void lossFallsOnLearnableData() throws Exception {
        CausalLM model = TrainTesting.tinyModel(TorchTesting.seed("lossFallsOnLearnableData"));
        TrainResult r = train(model, config(60, 3));
        double first = r.meanLoss(0, 5), last = r.meanLoss(55, 60);
        System.out.printf("toy loss %.4f -> %.4f%n", first, last);
        // uniform over 40 tokens is ln 40 = 3.69; the shifted copy is learnable, so the loss must fall well below
        assertTrue(first > 2.5, "initial loss near ln(V): " + first);
        assertTrue(last < 0.5 * first, "loss did not halve: " + first + " -> " + last);
        assertEquals(60, r.losses().length);
        assertTrue(r.trainedTokens() > 60 * 8, "response tokens counted");
        assertFalse(model.lmHeadWeight().requires_grad(), "requires_grad is switched off after training");
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsAndAnotherSeedDoesNot() throws Exception {
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

    private static Map<String, Tensor> trained(long modelSeed, long dataSeed) throws java.io.IOException {
        CausalLM model = TrainTesting.tinyModel(modelSeed);
        train(model, config(12, dataSeed));
        return model.namedParameters();
    }

    @Test
    void nonFiniteLossStopsWithTheStep() {
        CausalLM model = TrainTesting.tinyModel(TorchTesting.seed("nonFiniteLossStopsWithTheStep"));
        try (PointerScope scope = new PointerScope()) {
            model.namedParameters().get("model.norm.weight").fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        }
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> train(model, config(5, 1)));
        assertEquals(0, e.step());
        assertTrue(e.getMessage().contains("diverged at step 0"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was written"), e.getMessage());
    }
}
