package dev.linchpin.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.SizeTPointer;

/** Facts about, and synchronisation of, the current CUDA device, through the C ABI (no libtorch). */
public final class CudaDevice {
    private CudaDevice() {}

    /**
     * The current device's name with its compute capability, e.g. {@code "NVIDIA H100 80GB HBM3 (sm_90)"}.
     *
     * @throws BackendUnavailableException if the CUDA backend is not available
     */
    public static String name() {
        CudaBackend.ensureAvailable();
        try (BytePointer buf = new BytePointer(256)) {
            NativeStatus.check(LinchpinNative.lp_cuda_device_name(buf, 256), "cudaGetDeviceProperties");
            return buf.limit(org.bytedeco.javacpp.BytePointer.strlen(buf)).getString();   // limit = capacity would read past the NUL
        }
    }

    /** {@code {free, total}} bytes of the current device's memory ({@code cudaMemGetInfo}). */
    public static long[] memoryInfo() {
        CudaBackend.ensureAvailable();
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            NativeStatus.check(LinchpinNative.lp_cuda_mem_get_info(free, total), "cudaMemGetInfo");
            return new long[] {free.get(), total.get()};
        }
    }

    /**
     * Waits for all work on the device and surfaces any asynchronous error of earlier kernels as a
     * {@link LinchpinNativeException}.
     */
    public static void synchronize() {
        CudaBackend.ensureAvailable();
        NativeStatus.check(LinchpinNative.lp_cuda_synchronize(), "cudaDeviceSynchronize");
    }
}
