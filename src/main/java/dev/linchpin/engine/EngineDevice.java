package dev.linchpin.engine;

import dev.linchpin.nativ.LinchpinNative;

/**
 * Where a {@link RolloutEngine} runs its model. Trajectory bookkeeping, scheduling and token choice
 * stay on the host in every case; the device holds the weights and KV caches and runs the forward
 * passes, returning logits to the host.
 */
public enum EngineDevice {
    /** fp32 host weights and KV, the engine's own decode GEMM and OpenBLAS for prefill, worker threads. */
    CPU(0),
    /** The CUDA backend with fp32 device weights and KV (cuBLAS or own GEMMs, fp32 accumulation). */
    CUDA(LinchpinNative.LP_ENGINE_DEVICE_CUDA),
    /** The CUDA backend with bf16 device weights and KV; activations and accumulation stay fp32. */
    CUDA_BF16(LinchpinNative.LP_ENGINE_DEVICE_CUDA | LinchpinNative.LP_ENGINE_CUDA_BF16);

    private final int flags;

    EngineDevice(int flags) {
        this.flags = flags;
    }

    /** The lp_engine_create flag bits (LP_ENGINE_DEVICE_CUDA, LP_ENGINE_CUDA_BF16). */
    int flags() {
        return flags;
    }

    /** Parses the command-line spelling: {@code cpu}, {@code cuda} or {@code cuda-bf16}. */
    public static EngineDevice parse(String s) {
        switch (s == null ? "" : s.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "cpu": return CPU;
            case "cuda": return CUDA;
            case "cuda-bf16": return CUDA_BF16;
            default: throw new IllegalArgumentException("engine device must be cpu, cuda or cuda-bf16, got '" + s + "'");
        }
    }

    /** The command-line spelling. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** True for the CUDA backends. */
    public boolean isCuda() {
        return this != CPU;
    }
}
