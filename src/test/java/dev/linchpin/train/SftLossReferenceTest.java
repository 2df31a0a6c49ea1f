package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.kernels.MaskedCeResult;
import dev.linchpin.model.CausalLM;
import dev.linchpin.testing.TorchTesting;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongArrayRefOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * The loss the trainer optimises equals a float64 libtorch computation written from the definition:
 * for each sequence separately (no batching, no padding), logits of every position from the model's
 * hidden states and LM head, log_softmax, and the mean over response tokens j of −log p(x_j | x_<j),
 * read at position j−1.
 */
class SftLossReferenceTest {
    @Test
    void equalsFloat64MaskedNllOverResponseTokens() {
        long seed = TorchTesting.seed("equalsFloat64MaskedNllOverResponseTokens");
        CausalLM model = TrainTesting.tinyModel(seed);
        List<WeightedExample> examples = TrainTesting.toyExamples(3, seed);
        try (PointerScope scope = new PointerScope()) {
            long tokens = 0;
            for (WeightedExample e : examples) tokens += e.response().length;   // every response token is weighted 1
            MaskedCeResult r = ObjectiveLoss.compute(model, WeightedBatch.of(examples, TrainTesting.PAD, Normalization.TOKEN_MEAN, tokens,
                    examples.size()), false, 1);

            Tensor w64 = model.lmHeadWeight().to(ScalarType.Double);
            double sum = 0;
            long count = 0;
            for (WeightedExample e : examples) {
                long[] x = sequence(e);
                Tensor ids = Tensor.create(x, 1, x.length);
                Tensor h = model.hidden(ids, null).select(0, 0).to(ScalarType.Double);       // [L, D]
                Tensor logp = torch.log_softmax(h.matmul(w64.t()), 1, new ScalarTypeOptional());  // [L, V]
                for (int j = e.prompt().length; j < x.length; j++) {          // every response token x_j
                    sum -= logp.get(j - 1).get(x[j]).item_double();          // predicted at position j-1
                    count++;
                }
            }
            double expected = sum / count;
            assertEquals(expected, r.lossValue(), 1e-5 * Math.abs(expected), "loss vs float64 reference");
            assertTrue(r.activeRows() == count, "rows with loss = response tokens");
        }
    }

    static long[] sequence(WeightedExample e) {
        long[] p = e.prompt(), r = e.response(), x = java.util.Arrays.copyOf(p, p.length + r.length);
        System.arraycopy(r, 0, x, p.length, r.length);
        return x;
    }
}
