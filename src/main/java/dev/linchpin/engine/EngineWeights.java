package dev.linchpin.engine;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Moving a {@link CausalLM}'s parameters into a native engine (for {@link CausalLMEngines}; libtorch): every name, shape, dtype and value is
 * checked in Java first (so the native side never sees a half-valid model, and an update either
 * happens whole or not at all), then each tensor is converted to fp32 on the host and copied.
 */
final class EngineWeights {
    private EngineWeights() {}

    /**
     * Checks that {@code model} can supply the weights of an engine built for {@code config} with
     * RoPE table {@code invFreq}: the same parameter names, shapes, floating dtypes, finite values,
     * and the same family, RMSNorm epsilon and RoPE frequencies (which the engine does not take from
     * the tensors). Throws {@link IllegalArgumentException} naming the first offending tensor.
     */
    static void validate(CausalLM model, ModelConfig config, float[] invFreq) {
        if (model == null) throw new IllegalArgumentException("model is null");
        Map<String, long[]> expected = CausalLM.parameterShapes(config);
        Map<String, Tensor> params = model.namedParameters();
        if (!params.keySet().equals(expected.keySet())) {
            TreeSet<String> missing = new TreeSet<>(expected.keySet());
            missing.removeAll(params.keySet());
            TreeSet<String> unexpected = new TreeSet<>(params.keySet());
            unexpected.removeAll(expected.keySet());
            throw new IllegalArgumentException("model parameters do not match the engine's: missing " + missing
                    + ", unexpected " + unexpected);
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            String name = e.getKey();
            Tensor t = params.get(name);
            if (t == null || t.isNull() || !t.defined()) throw new IllegalArgumentException("tensor '" + name + "' is undefined");
            long[] shape = t.sizes().vec().get();
            if (!Arrays.equals(shape, e.getValue())) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape)
                        + ", the engine expects " + Arrays.toString(e.getValue()));
            }
            ScalarType type = t.scalar_type().intern();
            if (type != ScalarType.Float && type != ScalarType.Double && type != ScalarType.BFloat16
                    && type != ScalarType.Half) {
                throw new IllegalArgumentException("tensor '" + name + "' has dtype " + type
                        + ", the engine takes float32, float64, bfloat16 or float16");
            }
            try (PointerScope scope = new PointerScope()) {
                if (!torch.isfinite(t.detach()).all().item_bool()) {
                    throw new IllegalArgumentException("tensor '" + name + "' has a NaN or infinite value");
                }
            }
        }
        ModelConfig m = model.config();
        if (m.family() != config.family() || m.rmsNormEps() != config.rmsNormEps()
                || m.tieWordEmbeddings() != config.tieWordEmbeddings()) {
            throw new IllegalArgumentException("model config differs from the engine's (family " + m.family() + " vs "
                    + config.family() + ", rms_norm_eps " + m.rmsNormEps() + " vs " + config.rmsNormEps()
                    + ", tied " + m.tieWordEmbeddings() + " vs " + config.tieWordEmbeddings() + ")");
        }
        if (!Arrays.equals(m.rope().inverseFrequencies(m.headDim()), invFreq)) {
            throw new IllegalArgumentException("model RoPE parameters differ from the engine's (inverse frequencies)");
        }
    }

    /** Copies every (validated) parameter of {@code model} into the engine as fp32, then finalizes it. */
    static void copy(Pointer engine, CausalLM model) {
        List<String> names = new ArrayList<>(model.namedParameters().keySet());
        for (String name : names) {
            try (PointerScope scope = new PointerScope()) {
                Tensor t = model.namedParameters().get(name).detach().to(new Device("cpu"), ScalarType.Float).contiguous();
                long[] shape = t.sizes().vec().get();
                NativeStatus.check(LinchpinNative.lp_engine_set_weight(engine, new BytePointer(name),
                        new FloatPointer(t.data_ptr()), new LongPointer(shape), shape.length), "weight " + name);
            }
        }
        NativeStatus.check(LinchpinNative.lp_engine_finalize(engine), "lp_engine_finalize");
    }
}
