package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.kernels.MaskedCeResult;
import dev.linchpin.model.CausalLM;
import dev.linchpin.testing.TorchTesting;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The fused-kernel objective loss against a float64 libtorch reference, per normalisation and with DFT. */
class ObjectiveLossTest {

    @ParameterizedTest(name = "{0} dft={1}")
    @CsvSource({"TOKEN_MEAN,false", "SEQUENCE_MEAN,false", "SUM,false", "TOKEN_MEAN,true", "SEQUENCE_MEAN,true", "SUM,true"})
    void lossEqualsFloat64Reference(Normalization mode, boolean dft) {
        long seed = TorchTesting.seed("loss " + mode + " " + dft);
        Random rnd = new Random(seed);
        CausalLM model = ObjectiveTesting.tinyModel(seed);
        // mixed weights: zeros, ones and fractional, like CFT/ablation masks and any float weight
        List<WeightedExample> ex = ObjectiveTesting.randomExamples(rnd, 5, i -> rnd.nextInt(3) == 0 ? 0f : rnd.nextFloat() * 2);
        WeightedBatch b = WeightedBatch.of(ex, ObjectiveTesting.PAD, mode, ObjectiveTesting.tokens(ex), ex.size());
        double actual = ObjectiveLoss.compute(model, b, dft, 1).lossValue();
        double expected = ObjectiveTesting.referenceLoss(model, ex, mode, dft).item_double();
        assertEquals(expected, actual, 1e-5 * Math.max(1, Math.abs(expected)));
    }

    @ParameterizedTest(name = "dft={0}")
    @CsvSource({"false", "true"})
    void gradientsEqualReferenceAndComeOnlyFromWeightedPositions(boolean dft) {
        long seed = TorchTesting.seed("cft grads");
        Random rnd = new Random(seed);
        CausalLM model = ObjectiveTesting.tinyModel(seed);
        // CFT-like 0/1 mask with the EOS (last response token) always critical
        List<WeightedExample> ex = ObjectiveTesting.randomExamples(rnd, 4, i -> rnd.nextInt(4) == 0 ? 1f : 0f)
                .stream().map(e -> { float[] w = e.weights(); w[w.length - 1] = 1f; return new WeightedExample(e.prompt(), e.response(), w); }).toList();
        model.requiresGrad(true);
        Map<String, Tensor> ours = grads(model, () -> ObjectiveLoss.compute(model,
                WeightedBatch.of(List.copyOf(ex), ObjectiveTesting.PAD, Normalization.TOKEN_MEAN, ObjectiveTesting.tokens(ex), ex.size()), dft, 1).backward());
        Map<String, Tensor> ref = grads(model, () -> ObjectiveTesting.referenceLoss(model, ex, Normalization.TOKEN_MEAN, dft).backward());
        for (String name : ours.keySet()) {
            double err = TorchTesting.relErr(ours.get(name), ref.get(name).to(ours.get(name).scalar_type()));
            assertTrue(err < 1e-4, name + " relative error " + err);
        }
        model.requiresGrad(false);
    }

    @Test
    void zeroWeightResponseTokensGiveNoGradient() {
        long seed = TorchTesting.seed("zero weights");
        CausalLM model = ObjectiveTesting.tinyModel(seed);
        // the same example twice, differing only in a response token whose weight is 0 and which no
        // weighted position can see (it is the last token): gradients must be identical
        long[] p = {5, 6, 7};
        WeightedExample a = new WeightedExample(p, new long[] {8, 9, 10}, new float[] {1, 1, 0});
        WeightedExample b = new WeightedExample(p, new long[] {8, 9, 44}, new float[] {1, 1, 0});
        model.requiresGrad(true);
        Map<String, Tensor> ga = grads(model, () -> ObjectiveLoss.compute(model, WeightedBatch.of(List.of(a), 0, Normalization.SUM, 2, 1), false, 1).backward());
        Map<String, Tensor> gb = grads(model, () -> ObjectiveLoss.compute(model, WeightedBatch.of(List.of(b), 0, Normalization.SUM, 2, 1), false, 1).backward());
        for (String n : ga.keySet()) assertTrue(ga.get(n).equal(gb.get(n)), n);
        model.requiresGrad(false);
    }

    static Map<String, Tensor> grads(CausalLM model, Runnable backward) {
        for (Tensor t : model.parameters()) if (t.grad().defined()) t.grad().zero_();
        backward.run();
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) out.put(e.getKey(), e.getValue().grad().clone());
        return out;
    }
}
