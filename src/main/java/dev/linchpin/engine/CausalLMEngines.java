package dev.linchpin.engine;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Rollout engines that take their weights from a libtorch {@link CausalLM} (a training model) and
 * follow it as it trains. The only way into the engine that needs libtorch: mining and evaluation load
 * checkpoints with {@link RolloutEngine#fromHuggingFace}, which does not.
 */
public final class CausalLMEngines {
    private CausalLMEngines() {}

    /**
     * An engine on the CPU with {@code model}'s weights (converted to fp32 host copies). The engine
     * does not follow the model by itself: call {@link #updateWeights} after training steps.
     *
     * @param kvBudgetBytes bound on the KV memory of trajectories and branch slots together
     * @param threads       worker threads (<= 0: all cores)
     * @throws IllegalArgumentException naming the tensor when a parameter is malformed (shape, dtype, NaN)
     */
    public static RolloutEngine fromModel(CausalLM model, long kvBudgetBytes, int threads) {
        return fromModel(model, kvBudgetBytes, threads, EngineDevice.CPU);
    }

    /**
     * An engine on {@code device} with {@code model}'s weights. On a CUDA device the weights are
     * uploaded (fp32 or bf16) and the KV budget counts device bytes; token choice stays on the host.
     *
     * @param kvBudgetBytes bound on the KV memory of trajectories and branch slots together, in the
     *                      device's bytes ({@link RolloutEngine#kvBytesPerPosition()} per cached position)
     * @param threads       CPU worker threads (<= 0: all cores; unused by the CUDA backend)
     * @throws dev.linchpin.nativ.BackendUnavailableException for a CUDA device when
     *         {@link dev.linchpin.nativ.CudaBackend#isAvailable()} is false (with the reason)
     */
    public static RolloutEngine fromModel(CausalLM model, long kvBudgetBytes, int threads, EngineDevice device) {
        if (model == null) throw new IllegalArgumentException("model is null");
        if (device == null) throw new IllegalArgumentException("device is null");
        ModelConfig c = model.config();
        EngineWeights.validate(model, c, c.rope().inverseFrequencies(c.headDim()));
        try {
            return RolloutEngine.create(c, kvBudgetBytes, threads, device, engine -> EngineWeights.copy(engine, model));
        } catch (IOException e) {
            throw new UncheckedIOException(e);   // copying from libtorch tensors does no I/O
        }
    }

    /**
     * Refreshes {@code engine}'s weights in place from {@code model}'s current parameters, so the engine
     * follows a model while it trains (fp32 host copies; a re-upload on a CUDA device).
     *
     * <p>Refused while trajectories are live: their KV caches were computed with the old weights and
     * would silently mix two models into every later rollout. Release them, update, and prefill again.
     * Everything is validated before the first tensor is copied, so a rejected model leaves the
     * engine unchanged.
     *
     * @throws IllegalStateException    while trajectories of {@code engine} are live
     * @throws IllegalArgumentException naming the tensor when {@code model}'s parameters do not match the
     *                                  engine's (name, shape, dtype, NaN/Inf) or its config differs
     *                                  (family, RMSNorm epsilon, RoPE, tied embeddings)
     */
    public static void updateWeights(RolloutEngine engine, CausalLM model) {
        if (engine == null) throw new IllegalArgumentException("engine is null");
        try {
            engine.replaceWeights(handle -> {
                EngineWeights.validate(model, engine.config(), engine.inverseFrequencies());
                EngineWeights.copy(handle, model);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
