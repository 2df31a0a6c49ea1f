package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.testing.TorchTesting;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Batched equal-length greedy decoding gives what one-at-a-time {@link Generation#greedy} gives. */
class GreedyAccuracyTest {
    @Test
    void batchedEqualLengthDecodingMatchesOneAtATime() throws Exception {
        long seed = TorchTesting.seed("batchedEqualLengthDecodingMatchesOneAtATime");
        CausalLM model = TrainTesting.tinyModel(seed);
        // a trained toy model stops with EOS at different steps, so rows finish at different times
        TrainTesting.sft(model, TrainTesting.toyExamples(24, seed), FineTuneConfig.builder(40).batch(8, 1).learningRate(1e-2, 5)
                .schedule(FineTuneConfig.Schedule.COSINE, 0.1).weightDecay(0.0).maxGradNorm(1.0).seed(seed).threads(2).deterministic(true)
                .build());
        Random rnd = new Random(seed);
        long[][] prompts = new long[5][6];
        for (long[] p : prompts) for (int i = 0; i < p.length; i++) p[i] = 10 + rnd.nextInt(10);
        long[] eos = {TrainTesting.EOS};
        long[][] batched = GreedyAccuracy.greedyEqualLength(model, prompts, 12, eos);
        for (int r = 0; r < prompts.length; r++) {
            assertArrayEquals(Generation.greedy(model, prompts[r], 12, eos), batched[r], "row " + r);
        }
        assertThrows(IllegalArgumentException.class,
                () -> GreedyAccuracy.greedyEqualLength(model, new long[][] {{1, 2}, {1}}, 3, eos));
    }
}
