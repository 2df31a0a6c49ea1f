package dev.linchpin.model;

import dev.linchpin.testing.TinyModels;
import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental decoding equals the full forward pass; padded rows equal unpadded sequences. */
class KvCacheAndPaddingTest {
    static Stream<Arguments> configs() {
        return TinyModels.tinyConfigs().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void incrementalLogitsEqualFullForward(String name, ModelConfig config) {
        Random rnd = new Random(TorchTesting.seed("kv cache " + name));
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(config);
            long[] a = TinyModels.randomIds(rnd, 12, config.vocabSize()), b = TinyModels.randomIds(rnd, 12, config.vocabSize());
            Tensor ids = TinyModels.batch(a, b);
            Tensor full = model.logits(ids, null);
            KvCache cache = model.newCache(2, 16);
            int[] chunks = {5, 1, 3, 1, 2};   // a prefill, single steps and multi-token chunks
            int at = 0;
            for (int n : chunks) {
                Tensor step = model.forwardIncremental(ids.narrow(1, at, n), cache);
                double err = relErr(step, full.narrow(1, at, n));
                assertTrue(err < 1e-5, name + " chunk at " + at + ": rel. error " + err);
                at += n;
                assertEquals(at, cache.length());
            }
            // Rolling back and re-decoding a different continuation matches its own full pass.
            cache.truncate(6);
            long[] c = a.clone();
            c[6] = (c[6] + 1) % config.vocabSize();
            Tensor branchFull = model.logits(TinyModels.batch(c, b), null);
            Tensor branch = model.forwardIncremental(TinyModels.batch(c, b).narrow(1, 6, 3), cache);
            assertTrue(relErr(branch, branchFull.narrow(1, 6, 3)) < 1e-5, "branch after truncate");
            assertThrows(IllegalStateException.class, () -> model.forwardIncremental(ids.narrow(1, 0, 8), cache));
        }
    }

    @Test
    void leftAndRightPaddedRowsMatchUnpaddedSequences() {
        Random rnd = new Random(TorchTesting.seed("padding"));
        for (ModelConfig config : TinyModels.tinyConfigs().values()) {
            try (PointerScope scope = new PointerScope()) {
                CausalLM model = TinyModels.randomModel(config);
                long[] shortSeq = TinyModels.randomIds(rnd, 6, config.vocabSize());
                long[] longSeq = TinyModels.randomIds(rnd, 9, config.vocabSize());
                long[] left = new long[9], right = new long[9];
                long[] leftMask = new long[9], rightMask = new long[9];
                for (int i = 0; i < 9; i++) {
                    left[i] = i < 3 ? 0 : shortSeq[i - 3];
                    leftMask[i] = i < 3 ? 0 : 1;
                    right[i] = i < 6 ? shortSeq[i] : 5;
                    rightMask[i] = i < 6 ? 1 : 0;
                }
                long[] ones = new long[9];
                java.util.Arrays.fill(ones, 1);
                Tensor logits = model.logits(TinyModels.batch(left, right, longSeq), TinyModels.batch(leftMask, rightMask, ones));
                Tensor alone = model.logits(TinyModels.batch(shortSeq), null).get(0);
                assertTrue(relErr(logits.get(0).narrow(0, 3, 6), alone) < 1e-5, config + ": left padding");
                assertTrue(relErr(logits.get(1).narrow(0, 0, 6), alone) < 1e-5, config + ": right padding");
                assertTrue(relErr(logits.get(2), model.logits(TinyModels.batch(longSeq), null).get(0)) < 1e-5, "unpadded row");
                assertTrue(logits.isfinite().all().item_bool(), "no NaN at padded positions");
            }
        }
    }

    @Test
    void badInputsAreRejectedWithClearMessages() {
        try (PointerScope scope = new PointerScope()) {
            ModelConfig config = TinyModels.tinyConfigs().get("llama");
            CausalLM model = TinyModels.randomModel(config);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.logits(TinyModels.batch(new long[] {1, 2, 128}), null));
            assertTrue(e.getMessage().contains("[0, 128)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.logits(TinyModels.batch(new long[] {-1, 2}), null));
            assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.create(new long[] {1, 2}), null));
            assertThrows(IllegalArgumentException.class, () -> model.logits(TinyModels.batch(new long[] {1, 2}).to(org.bytedeco.pytorch.global.torch.ScalarType.Int), null));
            assertThrows(IllegalArgumentException.class,
                    () -> model.logits(TinyModels.batch(new long[] {1, 2}), TinyModels.batch(new long[] {1, 2})));
            assertThrows(IllegalArgumentException.class,
                    () -> model.logits(TinyModels.batch(new long[] {1, 2}), TinyModels.batch(new long[] {1})));
            KvCache cache = model.newCache(1, 4);
            assertThrows(IllegalArgumentException.class, () -> model.forwardIncremental(TinyModels.batch(new long[] {1}, new long[] {2}), cache));
        }
    }
}
