package dev.linchpin.model;

import dev.linchpin.testing.TinyModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.util.Arrays;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Greedy decoding against arg-max of full forward passes; sampling reproducible and distributed as specified. */
class GenerationTest {
    @Test
    void greedyEqualsArgmaxOfFullForwardAtEachStep() {
        Random rnd = new Random(TorchTesting.seed("greedy"));
        for (ModelConfig config : TinyModels.tinyConfigs().values()) {
            try (PointerScope scope = new PointerScope()) {
                CausalLM model = TinyModels.randomModel(config);
                long[] prompt = TinyModels.randomIds(rnd, 4, config.vocabSize());
                long[] generated = Generation.greedy(model, prompt, 8, new long[0]);
                assertEquals(8, generated.length);
                long[] seq = prompt;
                for (long token : generated) {   // no cache: recompute everything, take the last row's arg-max
                    Tensor last = model.logits(TinyModels.batch(seq), null).get(0).get(seq.length - 1);
                    assertEquals(last.argmax().item_long(), token, config.toString());
                    seq = Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = token;
                }
                // Stopping at EOS: declare the 3rd generated token as EOS.
                long[] stopped = Generation.greedy(model, prompt, 8, new long[] {generated[2]});
                int firstEos = 0;
                while (generated[firstEos] != generated[2]) firstEos++;
                assertArrayEquals(Arrays.copyOf(generated, firstEos + 1), stopped);
            }
        }
    }

    @Test
    void samplingIsReproducibleUnderASeed() {
        TorchTesting.seed("sampling");
        ModelConfig config = TinyModels.tinyConfigs().get("llama");
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(config);
            long[] prompt = {3, 14, 15, 92};
            long[] a = Generation.sample(model, prompt, 24, new long[0], 1.5, 0.95, 7);
            long[] b = Generation.sample(model, prompt, 24, new long[0], 1.5, 0.95, 7);
            long[] c = Generation.sample(model, prompt, 24, new long[0], 1.5, 0.95, 8);
            assertArrayEquals(a, b);
            assertFalse(Arrays.equals(a, c), "another seed gives another sample");
            assertArrayEquals(Generation.greedy(model, prompt, 6, null), Generation.sample(model, prompt, 6, null, 0.0, 1.0, 1));
            assertArrayEquals(Generation.greedy(model, prompt, 6, null), Generation.sample(model, prompt, 6, null, 1.0, 1e-9, 1));
        }
    }

    @Test
    void drawFollowsTemperatureAndTopP() {
        // logits ln(1), ln(2), ln(3), ln(4): probabilities 0.1, 0.2, 0.3, 0.4 at temperature 1.
        double[] logits = {Math.log(1), Math.log(2), Math.log(3), Math.log(4)};
        int[] counts = new int[4];
        Random rnd = new Random(TorchTesting.seed("draw"));
        int n = 200_000;
        for (int i = 0; i < n; i++) counts[Generation.draw(logits, 1.0, 1.0, rnd.nextDouble())]++;
        for (int i = 0; i < 4; i++) assertEquals((i + 1) / 10.0, counts[i] / (double) n, 0.005, "token " + i);
        // top-p 0.6: keep 0.4 + 0.3 (0.7 >= 0.6), renormalised to 4/7 and 3/7.
        Arrays.fill(counts, 0);
        for (int i = 0; i < n; i++) counts[Generation.draw(logits, 1.0, 0.6, rnd.nextDouble())]++;
        assertEquals(0, counts[0] + counts[1]);
        assertEquals(4 / 7.0, counts[3] / (double) n, 0.005);
        // temperature 0.5 squares the odds: 1,4,9,16 over 30.
        Arrays.fill(counts, 0);
        for (int i = 0; i < n; i++) counts[Generation.draw(logits, 0.5, 1.0, rnd.nextDouble())]++;
        assertEquals(16 / 30.0, counts[3] / (double) n, 0.005);
        assertTrue(counts[0] > 0);
    }
}
