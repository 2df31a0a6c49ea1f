package dev.linchpin.engine;

import static dev.linchpin.nativ.LinchpinNative.LP_ENGINE_MLP_BIAS;
import static dev.linchpin.nativ.LinchpinNative.LP_ENGINE_O_BIAS;
import static dev.linchpin.nativ.LinchpinNative.LP_ENGINE_QKV_BIAS;
import static dev.linchpin.nativ.LinchpinNative.LP_ENGINE_TIED_EMBEDDINGS;
import static dev.linchpin.nativ.LinchpinNative.LP_FAMILY_LLAMA;
import static dev.linchpin.nativ.LinchpinNative.LP_FAMILY_OLMO2;
import static dev.linchpin.nativ.LinchpinNative.LP_FAMILY_QWEN2;
import static dev.linchpin.nativ.LinchpinNative.LP_FAMILY_QWEN3;

import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;

/**
 * How a model is described to {@code lp_engine_create}: the family code and the flag bits, from
 * linchpin.h's constants ({@link dev.linchpin.nativ.LinchpinNative}). The family is mapped by name,
 * never by {@code ordinal()}, so reordering {@link ModelFamily} cannot pick another family; the switch
 * is exhaustive, so a new family does not compile until it has a code.
 */
final class EngineCodes {
    private EngineCodes() {}

    /** The LP_FAMILY_* code of {@code family}. */
    static int family(ModelFamily family) {
        return switch (family) {
            case LLAMA -> LP_FAMILY_LLAMA;
            case QWEN2 -> LP_FAMILY_QWEN2;
            case QWEN3 -> LP_FAMILY_QWEN3;
            case OLMO2 -> LP_FAMILY_OLMO2;
        };
    }

    /** The LP_ENGINE_* bits of a model with {@code config} on {@code device}. */
    static int flags(ModelConfig config, EngineDevice device) {
        return (config.tieWordEmbeddings() ? LP_ENGINE_TIED_EMBEDDINGS : 0)
                | (config.qkvBias() ? LP_ENGINE_QKV_BIAS : 0)
                | (config.outputBias() ? LP_ENGINE_O_BIAS : 0)
                | (config.mlpBias() ? LP_ENGINE_MLP_BIAS : 0)
                | device.flags();
    }
}
