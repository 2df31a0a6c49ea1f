package dev.linchpin.nativ;

import java.io.File;
import java.io.IOException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;

/**
 * The CUDA backend ({@code liblinchpin_cuda.so}), loaded lazily the first time CUDA is asked for.
 *
 * <p>It is never linked: the native dispatcher dlopens it, so machines without CUDA never touch CUDA
 * libraries. The library is found, in order, at {@code $LINCHPIN_CUDA_LIB}, the system property
 * {@code linchpin.cuda.lib}, or inside the jar next to {@code liblinchpin.so} (absent when the
 * project was built without nvcc). {@link #isAvailable()} / {@link #unavailabilityCause()} say whether
 * it loaded and found a device, and why not.
 */
public final class CudaBackend {
    private static final String LIBRARY = "liblinchpin_cuda.so";
    private static final Object LOCK = new Object();
    private static volatile boolean attempted;
    private static volatile String cause;

    private CudaBackend() {}

    /** True if the CUDA backend loaded and at least one CUDA device is usable. */
    public static boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /** Why CUDA cannot be used (library not built, no driver, no device, ...), or null if it can. */
    public static String unavailabilityCause() {
        if (!attempted) {
            synchronized (LOCK) {
                if (!attempted) {
                    cause = tryLoad();
                    attempted = true;
                }
            }
        }
        return cause;
    }

    /** Throws {@link BackendUnavailableException} with the cause unless CUDA is available. */
    public static void ensureAvailable() {
        String why = unavailabilityCause();
        if (why != null) throw new BackendUnavailableException("CUDA backend unavailable: " + why);
    }

    /** Number of CUDA devices the backend sees (0 when unavailable). */
    public static int deviceCount() {
        return isAvailable() ? LinchpinNative.lp_cuda_device_count() : 0;
    }

    private static String tryLoad() {
        if (!NativeLibrary.isAvailable()) return NativeLibrary.unavailabilityCause();
        String path;
        try {
            path = locate();
        } catch (IOException e) {
            return "cannot extract " + LIBRARY + " from the jar: " + e.getMessage();
        }
        if (path == null) {
            return LIBRARY + " is not in this build (the project was built without nvcc, or with "
                    + "-Dlinchpin.cuda=OFF); set LINCHPIN_CUDA_LIB to a built copy";
        }
        try (BytePointer p = new BytePointer(path)) {
            int status = LinchpinNative.lp_cuda_load(p);
            return status == NativeStatus.OK ? null : NativeStatus.lastError();
        }
    }

    private static String locate() throws IOException {
        String override = System.getenv("LINCHPIN_CUDA_LIB");
        if (override == null || override.isEmpty()) override = System.getProperty("linchpin.cuda.lib");
        if (override != null && !override.isEmpty()) return override;
        String resource = Loader.getPlatform() + "/" + LIBRARY;
        if (LinchpinNative.class.getResource(resource) == null) return null;
        File file = Loader.cacheResource(LinchpinNative.class, resource);
        return file == null ? null : file.getAbsolutePath();
    }
}
