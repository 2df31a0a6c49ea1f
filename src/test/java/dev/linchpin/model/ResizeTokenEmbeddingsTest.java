package dev.linchpin.model;

import static dev.linchpin.model.safetensors.SafetensorsWriteTest.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TinyModels;
import dev.linchpin.testing.TorchTesting;
import java.nio.file.Path;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CausalLM#resizeTokenEmbeddings}: old rows and old-token logits bit-identical, new rows the float64
 * column mean of the old rows (computed here by a plain Java loop), and the resized model saves and loads.
 */
class ResizeTokenEmbeddingsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2-tied"})
    void oldTokensAreUntouchedAndNewRowsAreTheMean(String family) throws Exception {
        ModelConfig config = TinyModels.tinyConfigs().get(family);
        int v = config.vocabSize(), added = 4;
        try (PointerScope scope = new PointerScope()) {
            torchSeed(family);
            CausalLM model = TinyModels.randomModel(config);
            CausalLM resized = model.resizeTokenEmbeddings(v + added);
            assertEquals(v + added, resized.config().vocabSize());
            assertEquals(v, model.config().vocabSize(), "the original model is unchanged");
            for (String name : new String[] {"model.embed_tokens.weight", "lm_head.weight"}) {
                Tensor before = model.namedParameters().get(name);
                if (before == null) {
                    assertTrue(config.tieWordEmbeddings() && !resized.namedParameters().containsKey(name));
                    continue;
                }
                Tensor after = resized.namedParameters().get(name);
                assertEquals(v + added, after.size(0));
                assertBitIdentical(name + " old rows", before, after.narrow(0, 0, v));
                long d = before.size(1);
                float[] w = new float[(int) (v * d)];
                before.contiguous().data_ptr_float().get(w);
                float[] grown = new float[(int) ((v + added) * d)];
                after.contiguous().data_ptr_float().get(grown);
                for (int j = 0; j < d; j++) {
                    double sum = 0;
                    for (int i = 0; i < v; i++) sum += w[(int) (i * d + j)];
                    float mean = (float) (sum / v);
                    for (int k = 0; k < added; k++) {
                        float got = grown[(int) ((v + k) * d + j)];
                        // float64 sums in a different order may round the last float32 bit differently
                        assertEquals(mean, got, Math.ulp(mean), name + " row " + (v + k) + " col " + j);
                    }
                }
            }
            Random rnd = new Random(TorchTesting.seed("resize " + family));
            Tensor ids = TinyModels.batch(TinyModels.randomIds(rnd, 9, v), TinyModels.randomIds(rnd, 9, v));
            Tensor oldLogits = model.logits(ids, null), newLogits = resized.logits(ids, null);
            assertEquals(v + added, newLogits.size(2));
            assertBitIdentical("logits of the old tokens", oldLogits, newLogits.narrow(2, 0, v).contiguous());
            // The new tokens are usable as inputs.
            Tensor withNew = TinyModels.batch(new long[] {3, v, v + 3, 5});
            assertTrue(resized.logits(withNew, null).isfinite().all().item_bool());

            resized.save(dir.resolve(family), null);
            CausalLM loaded = CausalLM.load(dir.resolve(family), new Device("cpu"), ScalarType.Float);
            assertEquals(v + added, loaded.config().vocabSize());
            assertEquals(resized.namedParameters().keySet(), loaded.namedParameters().keySet());
            for (String name : resized.namedParameters().keySet()) {
                assertBitIdentical(name, resized.namedParameters().get(name), loaded.namedParameters().get(name));
            }
        }
    }

    @Test
    void shrinkingIsRefusedAndTheSameSizeIsANoOp() {
        ModelConfig config = TinyModels.tinyConfigs().get("llama");
        CausalLM model = CausalLM.randomInit(config, 1);
        assertThrows(IllegalArgumentException.class, () -> model.resizeTokenEmbeddings(config.vocabSize() - 1));
        assertTrue(model.resizeTokenEmbeddings(config.vocabSize()) == model);
    }

    private static void torchSeed(String name) {
        org.bytedeco.pytorch.global.torch.manual_seed(TorchTesting.seed("resize model " + name));
    }
}
