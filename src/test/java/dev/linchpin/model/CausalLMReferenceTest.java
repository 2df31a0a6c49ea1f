package dev.linchpin.model;

import dev.linchpin.testing.TinyModels;
import static dev.linchpin.testing.TorchTesting.relErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The float32 model (SDPA, GQA, fused ops) against the float64 plain-op {@link ReferenceDecoder}, per family. */
class CausalLMReferenceTest {
    static Stream<Arguments> configs() {
        return TinyModels.tinyConfigs().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchFloat64Reference(String name, ModelConfig config) {
        Random rnd = new Random(TorchTesting.seed("reference " + name));
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(config);
            long[] a = TinyModels.randomIds(rnd, 11, config.vocabSize()), b = TinyModels.randomIds(rnd, 11, config.vocabSize());
            Tensor logits = model.logits(TinyModels.batch(a, b), null);
            assertArrayEquals(new long[] {2, 11, config.vocabSize()}, logits.sizes().vec().get());
            ReferenceDecoder ref = new ReferenceDecoder(config, model.namedParameters());
            for (int row = 0; row < 2; row++) {
                Tensor expected = ref.logits(row == 0 ? a : b);
                double err = relErr(logits.get(row), expected);
                assertTrue(err < 1e-4, name + " row " + row + ": rel. error " + err);
            }
            // The hidden states are what the LM head multiplies: logits = hidden · Wᵀ.
            Tensor viaHidden = org.bytedeco.pytorch.global.torch.matmul(model.hidden(TinyModels.batch(a, b), null),
                    model.lmHeadWeight().t());
            assertTrue(relErr(viaHidden, logits) < 1e-6, "hidden · lmHeadWeightᵀ = logits");
        }
    }
}
