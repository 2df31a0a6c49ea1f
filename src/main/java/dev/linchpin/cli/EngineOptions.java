package dev.linchpin.cli;

import dev.linchpin.engine.EngineDevice;
import picocli.CommandLine.Option;

/** The rollout engine's resources, shared by mine and eval (a picocli mixin). */
public final class EngineOptions {
    @Option(names = "--kv-budget-mb", defaultValue = "2048", description = "Rollout engine KV-cache budget in MiB (default: ${DEFAULT-VALUE}).")
    long kvBudgetMb;
    @Option(names = "--threads", defaultValue = "0", description = "Engine threads; 0: all cores (default: ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--device", defaultValue = "cpu", description = "Rollout engine device: cpu, cuda (fp32) or cuda-bf16 (default: ${DEFAULT-VALUE}).")
    String device;

    /** The KV budget in bytes. */
    long kvBudgetBytes() {
        if (kvBudgetMb < 1) throw new IllegalArgumentException("--kv-budget-mb must be >= 1, got " + kvBudgetMb);
        return kvBudgetMb << 20;
    }

    EngineDevice device() {
        return EngineDevice.parse(device);
    }
}
