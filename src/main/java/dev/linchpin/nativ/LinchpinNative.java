package dev.linchpin.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Raw JavaCPP binding of the C ABI in {@code cpp/include/linchpin.h}. JavaCPP generates the JNI glue
 * at build time (process-classes) and links it against {@code liblinchpin.so}.
 *
 * <p>Do not call these methods directly: go through {@link NativeLibrary#api()} (which loads the
 * libraries and checks the ABI) and the validating facades in {@code dev.linchpin.kernels}. Nothing
 * here checks its arguments; a wrong pointer or size is undefined behaviour.
 */
@Platform(include = "linchpin.h", link = "linchpin")
public final class LinchpinNative {
    LinchpinNative() {}

    public static native int lp_abi_version();

    public static native @Cast("const char*") BytePointer lp_last_error();

    public static native int lp_cpu_masked_linear_ce(
            @Cast("const float*") FloatPointer h, @Cast("const float*") FloatPointer W,
            @Cast("const int64_t*") LongPointer y, @Cast("const float*") FloatPointer w,
            long N, long D, long V, double denom,
            FloatPointer lossOut, FloatPointer dh, FloatPointer dW,
            FloatPointer logpOut, FloatPointer entropyOut, int numThreads);

    public static native int lp_cuda_load(@Cast("const char*") BytePointer path);

    public static native int lp_cuda_is_loaded();

    public static native int lp_cuda_device_count();

    public static native @Cast("int64_t") long lp_cuda_masked_linear_ce_workspace_size(long N, long D, long V, int dtype);

    public static native int lp_cuda_masked_linear_ce(
            @Cast("const void*") Pointer h, @Cast("const void*") Pointer W, int dtype,
            @Cast("const int64_t*") Pointer y, @Cast("const float*") Pointer w,
            long N, long D, long V, double denom,
            @Cast("float*") Pointer lossOut, @Cast("float*") Pointer dh, @Cast("float*") Pointer dW,
            @Cast("float*") Pointer logpOut, @Cast("float*") Pointer entropyOut,
            @Cast("void*") Pointer workspace, long workspaceBytes, @Cast("void*") Pointer stream);

    // Device memory and device facts (see linchpin.h). Java code uses DeviceBuffer / CudaDevice.

    public static native int lp_cuda_malloc(@Cast("size_t") long bytes, @Cast("void**") PointerPointer<?> out);

    public static native int lp_cuda_free(@Cast("void*") Pointer ptr);

    public static native int lp_cuda_memcpy_h2d(@Cast("void*") Pointer dstDevice, @Cast("const void*") Pointer srcHost,
                                                @Cast("size_t") long bytes);

    public static native int lp_cuda_memcpy_d2h(@Cast("void*") Pointer dstHost, @Cast("const void*") Pointer srcDevice,
                                                @Cast("size_t") long bytes);

    public static native int lp_cuda_memset(@Cast("void*") Pointer ptr, int byteValue, @Cast("size_t") long bytes);

    public static native int lp_cuda_synchronize();

    public static native int lp_cuda_device_name(@Cast("char*") BytePointer buf, @Cast("size_t") long len);

    public static native int lp_cuda_mem_get_info(@Cast("size_t*") SizeTPointer freeBytes,
                                                  @Cast("size_t*") SizeTPointer totalBytes);
}
