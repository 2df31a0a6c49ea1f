package dev.linchpin.options;

import dev.linchpin.engine.EngineDevice;
import picocli.CommandLine.Option;

/** The rollout engine's resources, shared by mine, eval and the Spark job (a picocli mixin). */
public final class EngineOptions {
    @Option(names = "--kv-budget-mb", defaultValue = "2048", description = "Rollout engine KV-cache budget in MiB (default: ${DEFAULT-VALUE}).")
    long kvBudgetMb;
    @Option(names = "--threads", defaultValue = "0", description = "Engine threads; 0: all cores (default: ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--device", defaultValue = "cpu", description = "Rollout engine device: cpu, cuda (fp32) or cuda-bf16 (default: ${DEFAULT-VALUE}).")
    String device;

    /** The KV budget in bytes. */
    public long kvBudgetBytes() {
        if (kvBudgetMb < 1) throw new IllegalArgumentException("--kv-budget-mb must be >= 1, got " + kvBudgetMb);
        return kvBudgetMb << 20;
    }

    /** Engine threads ({@code --threads}; 0: all cores). */
    public int threads() {
        return threads;
    }

    /** The engine's device ({@code --device}). */
    public EngineDevice device() {
        return EngineDevice.parse(device);
    }
}
