package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * What {@link FineTuner} optimises: full fine-tuning ({@link FullFineTune}) or low-rank adapters
 * ({@link LoraModel}). The trainer only needs a model to run, the tensors to optimise and checkpoint,
 * and the weights to export.
 */
public interface Trainable {
    /** The model for the next forward pass; its outputs carry autograd history to {@link #trainableParameters()}. */
    CausalLM forwardModel();

    /** The optimised tensors by stable name (checkpointed under these names). */
    Map<String, Tensor> trainableParameters();

    /** Detached weights in the base model's Hugging Face layout (merged W + (α/r)·B·A for LoRA). */
    CausalLM exportModel();

    /** The device the model and the trained tensors live on. */
    Device device();

    /** Turns requires_grad on the trainable tensors on or off. */
    default void requiresGrad(boolean on) {
        for (Tensor t : trainableParameters().values()) t.requires_grad_(on);
    }
}
