package dev.linchpin.nativ;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * A block of CUDA device memory owned by Java, for driving the CUDA kernels without libtorch (GPU
 * tests run from the GPU bundle, native harnesses, embedders with their own memory management).
 *
 * <p>Memory comes from {@code cudaMalloc} on the current device through the C ABI
 * ({@code lp_cuda_malloc}) and goes back on {@link #close()}. Copies are synchronous
 * ({@code cudaMemcpy}); {@link #fill(int)} is ordered with kernels launched on the legacy default
 * stream. Every size is checked against the buffer before any native call, and a closed buffer
 * refuses use, so a wrong size is an exception here rather than a stray device write.
 *
 * <pre>{@code
 * try (DeviceBuffer d = DeviceBuffer.allocate(4L * n)) {
 *     d.upload(hostFloats);
 *     ... LinchpinNative.lp_cuda_masked_linear_ce(..., d.pointer(), ...) ...
 *     d.download(result);
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one owner at a time.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long byteSize;
    private Pointer device;     // null after close(), and for a 0-byte buffer
    private boolean closed;

    private DeviceBuffer(long byteSize, Pointer device) {
        this.byteSize = byteSize;
        this.device = device;
    }

    /**
     * Allocates {@code bytes} of device memory (uninitialised).
     *
     * @throws IllegalArgumentException if {@code bytes < 0}
     * @throws BackendUnavailableException if the CUDA backend is not available (with the reason)
     * @throws LinchpinNativeException with status {@link NativeStatus#OUT_OF_MEMORY} when the device is full
     */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("device buffer size must be >= 0, got " + bytes);
        CudaBackend.ensureAvailable();
        try (PointerPointer<Pointer> out = new PointerPointer<>(1)) {
            NativeStatus.check(LinchpinNative.lp_cuda_malloc(bytes, out), "cudaMalloc of " + bytes + " bytes");
            Pointer p = out.get(0);
            return new DeviceBuffer(bytes, p == null || p.isNull() ? null : p);
        }
    }

    /** Allocates room for {@code count} elements of {@code elementBytes} each, checking for overflow. */
    public static DeviceBuffer allocate(long count, int elementBytes) {
        if (count < 0 || elementBytes <= 0) {
            throw new IllegalArgumentException("bad device buffer shape: " + count + " x " + elementBytes + " bytes");
        }
        return allocate(Math.multiplyExact(count, (long) elementBytes));
    }

    /** Size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /**
     * The device address, to pass to native entry points; a null pointer for a 0-byte buffer.
     * Valid until {@link #close()}.
     */
    public Pointer pointer() {
        ensureOpen();
        return device == null ? new Pointer() : device;
    }

    /** Copies {@code src} (host) to the start of this buffer. */
    public void upload(float[] src) {
        checkFits(4L * src.length, "upload of " + src.length + " floats");
        try (FloatPointer host = new FloatPointer(src)) {
            copyIn(host, 4L * src.length);
        }
    }

    /** Copies raw 16-bit values (bf16/fp16 bit patterns) to the start of this buffer. */
    public void upload(short[] src) {
        checkFits(2L * src.length, "upload of " + src.length + " 16-bit values");
        try (ShortPointer host = new ShortPointer(src)) {
            copyIn(host, 2L * src.length);
        }
    }

    /** Copies {@code src} (int64 values) to the start of this buffer. */
    public void upload(long[] src) {
        checkFits(8L * src.length, "upload of " + src.length + " longs");
        try (LongPointer host = new LongPointer(src)) {
            copyIn(host, 8L * src.length);
        }
    }

    /** Copies the first {@code dst.length} floats of this buffer into {@code dst}. */
    public void download(float[] dst) {
        checkFits(4L * dst.length, "download of " + dst.length + " floats");
        try (FloatPointer host = new FloatPointer(dst.length)) {
            copyOut(host, 4L * dst.length);
            host.get(dst);
        }
    }

    /** Copies the first {@code dst.length} 16-bit values of this buffer into {@code dst}. */
    public void download(short[] dst) {
        checkFits(2L * dst.length, "download of " + dst.length + " 16-bit values");
        try (ShortPointer host = new ShortPointer(dst.length)) {
            copyOut(host, 2L * dst.length);
            host.get(dst);
        }
    }

    /**
     * Sets every byte to {@code byteValue} (low 8 bits). {@code fill(0xFF)} makes every fp32 element a
     * NaN: poison outputs with it before a kernel runs, to catch elements it never writes.
     */
    public void fill(int byteValue) {
        ensureOpen();
        if (byteSize == 0) return;
        NativeStatus.check(LinchpinNative.lp_cuda_memset(device, byteValue, byteSize), "cudaMemset");
    }

    /** Frees the device memory. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Pointer p = device;
        device = null;
        if (p != null) NativeStatus.check(LinchpinNative.lp_cuda_free(p), "cudaFree");
    }

    private void copyIn(Pointer host, long bytes) {
        if (bytes == 0) return;
        NativeStatus.check(LinchpinNative.lp_cuda_memcpy_h2d(device, host, bytes), "cudaMemcpy host to device");
    }

    private void copyOut(Pointer host, long bytes) {
        if (bytes == 0) return;
        NativeStatus.check(LinchpinNative.lp_cuda_memcpy_d2h(host, device, bytes), "cudaMemcpy device to host");
    }

    private void checkFits(long bytes, String what) {
        ensureOpen();
        if (bytes > byteSize) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes but the device buffer has " + byteSize);
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("device buffer of " + byteSize + " bytes is closed");
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + byteSize + " bytes" + (closed ? ", closed" : "") + "]";
    }
}
