package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.nativ.LinchpinNative;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The engine receives each family's own LP_FAMILY_* code (looked up here by the family's name, not by
 * its position in the enum) and the flag bits of the model's config; NativeConstantsTest ties the Java
 * constants to linchpin.h.
 */
class EngineCodesTest {
    @Test
    void eachFamilyGetsTheHeaderCodeOfItsOwnName() throws Exception {
        Set<Integer> codes = new HashSet<>();
        for (ModelFamily f : ModelFamily.values()) {
            int expected = LinchpinNative.class.getField("LP_FAMILY_" + f.name()).getInt(null);
            assertEquals(expected, EngineCodes.family(f), f.name());
            codes.add(EngineCodes.family(f));
        }
        assertEquals(ModelFamily.values().length, codes.size(), "codes are distinct");
    }

    @Test
    void flagsFollowTheConfigAndTheDevice() {
        ModelConfig qwen2 = ModelConfig.builder(ModelFamily.QWEN2).vocabSize(16).hiddenSize(8).intermediateSize(16).numLayers(1)
                .numHeads(2).tieWordEmbeddings(true).build();
        assertEquals(1 | 2, EngineCodes.flags(qwen2, EngineDevice.CPU), "tied + Qwen2's q/k/v bias, no o bias");
        ModelConfig llama = ModelConfig.builder(ModelFamily.LLAMA).vocabSize(16).hiddenSize(8).intermediateSize(16).numLayers(1)
                .numHeads(2).attentionBias(true).mlpBias(true).build();
        assertEquals(2 | 4 | 8 | 16 | 32, EngineCodes.flags(llama, EngineDevice.CUDA_BF16));
        ModelConfig olmo = ModelConfig.builder(ModelFamily.OLMO2).vocabSize(16).hiddenSize(8).intermediateSize(16).numLayers(1)
                .numHeads(2).mlpBias(true).build();
        assertEquals(16, EngineCodes.flags(olmo, EngineDevice.CUDA), "mlp_bias is a Llama setting only");
        for (ModelConfig c : List.of(qwen2, llama, olmo)) assertEquals(0, EngineCodes.flags(c, EngineDevice.CPU) & (16 | 32));
    }
}
