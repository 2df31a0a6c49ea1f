package dev.linchpin.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.DeviceType;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A scope in which libtorch autocast runs eligible ops (linear, matmul, scaled_dot_product_attention, ...)
 * in bfloat16 on one device type, like Python's {@code with torch.autocast(device_type, dtype=torch.bfloat16)}.
 * The bytedeco preset has no C++ RAII guard for it, so this sets and restores the thread-local state
 * itself ({@code at::autocast::set_autocast_enabled / set_autocast_dtype}).
 *
 * <p>Autocast's weight-cast cache is switched off inside the scope: it keeps the bf16 copy of every leaf
 * weight until the outermost autocast exits, and an optimizer step between two forwards inside one long
 * scope would then read stale copies. Each weight is used once per forward, so the cache saves nothing here.
 *
 * <p>Backward runs outside the scope (as in PyTorch): autograd replays the recorded casts, so the
 * gradients of fp32 leaves are fp32.
 */
final class Autocast implements AutoCloseable {
    private final DeviceType type;
    private final boolean wasEnabled, wasCacheEnabled;
    private final ScalarType previousDtype;

    private Autocast(DeviceType type) {
        this.type = type;
        this.wasEnabled = torch.is_autocast_enabled(type);
        this.previousDtype = torch.get_autocast_dtype(type).intern();
        this.wasCacheEnabled = torch.is_autocast_cache_enabled();
        torch.set_autocast_cache_enabled(false);
        torch.set_autocast_dtype(type, ScalarType.BFloat16);
        torch.set_autocast_enabled(type, true);
    }

    /** bf16 autocast for tensors on {@code device} (CPU or CUDA). */
    static Autocast bf16(Device device) {
        return new Autocast(device.is_cuda() ? DeviceType.CUDA : DeviceType.CPU);
    }

    @Override
    public void close() {
        torch.set_autocast_enabled(type, wasEnabled);
        torch.set_autocast_dtype(type, previousDtype);
        torch.set_autocast_cache_enabled(wasCacheEnabled);
    }
}
