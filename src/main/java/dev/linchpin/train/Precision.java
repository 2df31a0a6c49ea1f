package dev.linchpin.train;

import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.nativ.CudaDevice;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Device;

/**
 * Arithmetic precision of the training forward pass ({@code linchpin train --precision}).
 *
 * <p>Whatever the setting, the trained tensors (the master weights) and the AdamW moments stay fp32;
 * {@link #BF16} only runs the model's forward under libtorch autocast ({@link Autocast}), so matmuls
 * and attention compute in bfloat16 with fp32 accumulation, and autograd casts the gradients back to
 * the fp32 tensors.
 */
public enum Precision {
    /** Everything in fp32. */
    FP32,
    /** Forward under bf16 autocast; fp32 master weights, gradients and optimizer state. */
    BF16,
    /** {@link #BF16} on a CUDA device that computes bf16 natively (compute capability 8.0 or newer), else {@link #FP32}. */
    AUTO;

    private static final Pattern SM = Pattern.compile("\\(sm_(\\d+)\\)");

    /** Parses {@code fp32}, {@code bf16} or {@code auto} (any case). */
    public static Precision parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("precision must be fp32, bf16 or auto, got '" + s + "'", e);
        }
    }

    /**
     * The concrete precision on {@code device}: {@link #AUTO} becomes {@link #BF16} on a CUDA device of
     * compute capability 8.0+ (Ampere, Hopper, ...; Python's {@code torch.cuda.is_bf16_supported()} draws the
     * same line) and {@link #FP32} anywhere else, CPU included (CPU bf16 is emulated by most cores and
     * slower than fp32). {@link #FP32} and {@link #BF16} are returned as they are.
     */
    public Precision resolve(Device device) {
        if (this != AUTO) return this;
        return device.is_cuda() && cudaComputeCapabilityMajor() >= 8 ? BF16 : FP32;
    }

    /** The current CUDA device's major compute capability, or -1 if the CUDA backend cannot say. */
    static int cudaComputeCapabilityMajor() {
        if (!CudaBackend.isAvailable()) return -1;
        return smMajor(CudaDevice.name());
    }

    /** The major version in a device name ending with {@code "(sm_XY)"}, e.g. 9 for sm_90; -1 if absent. */
    static int smMajor(String deviceName) {
        Matcher m = SM.matcher(deviceName);
        if (!m.find()) return -1;
        String digits = m.group(1);
        return Integer.parseInt(digits.substring(0, digits.length() - 1));
    }
}
