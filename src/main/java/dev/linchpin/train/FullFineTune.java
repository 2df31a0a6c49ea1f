package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/** Full fine-tuning: every parameter of the model is trained in place. */
public final class FullFineTune implements Trainable {
    private final CausalLM model;

    public FullFineTune(CausalLM model) {
        this.model = model;
    }

    @Override
    public CausalLM forwardModel() {
        return model;
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        return model.namedParameters();
    }

    @Override
    public Device device() {
        return model.device();
    }

    @Override
    public CausalLM exportModel() {
        return model;
    }
}
