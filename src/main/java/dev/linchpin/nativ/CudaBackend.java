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
 * it loaded and found a device, and why not: the cause is a {@link BackendUnavailableException} whose
 * {@link BackendUnavailableException#isBroken()} tells "no CUDA here" (not built, no driver, no capable
 * device) from "a GPU is there but the backend failed" (a library that does not load, an ABI mismatch,
 * a CUDA error while probing), with the failure underneath as its cause.
 */
public final class CudaBackend {
    private static final String LIBRARY = "liblinchpin_cuda.so";
    private static final Object LOCK = new Object();
    private static volatile boolean attempted;
    private static volatile BackendUnavailableException cause;

    private CudaBackend() {}

    /** True if the CUDA backend loaded and at least one CUDA device is usable. */
    public static boolean isAvailable() {
        return unavailabilityCause() == null;
    }

    /**
     * Why CUDA cannot be used, or null if it can. The exception's message says why,
     * {@link BackendUnavailableException#isBroken()} whether a GPU is there but the backend failed, and
     * its cause is the failure underneath (the native library's, an extraction's) where there is one.
     */
    public static BackendUnavailableException unavailabilityCause() {
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

    /** The reason alone, for messages: what {@link #unavailabilityCause()} says, or null if CUDA is available. */
    public static String unavailabilityReason() {
        BackendUnavailableException why = unavailabilityCause();
        return why == null ? null : reasonOf(why);
    }

    /** Throws a {@link BackendUnavailableException} (the cause chained) unless CUDA is available. */
    public static void ensureAvailable() {
        BackendUnavailableException why = unavailabilityCause();
        if (why != null) throw new BackendUnavailableException(why.status(), "CUDA backend unavailable: " + reasonOf(why), why);
    }

    /** Number of CUDA devices the backend sees (0 when unavailable). */
    public static int deviceCount() {
        return isAvailable() ? LinchpinNative.lp_cuda_device_count() : 0;
    }

    // The message without the "[STATUS] " prefix LinchpinNativeException adds.
    private static String reasonOf(BackendUnavailableException e) {
        String m = e.getMessage();
        String prefix = "[" + NativeStatus.name(e.status()) + "] ";
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    private static BackendUnavailableException tryLoad() {
        if (!NativeLibrary.isAvailable()) {
            return new BackendUnavailableException(NativeStatus.UNAVAILABLE,
                    "Linchpin's native library is unavailable: " + NativeLibrary.unavailabilityCause(), null);
        }
        String path;
        try {
            path = locate();
        } catch (IOException e) {
            return new BackendUnavailableException(NativeStatus.BACKEND_BROKEN,
                    "cannot extract " + LIBRARY + " from the jar: " + e.getMessage(), e);
        }
        if (path == null) {
            return new BackendUnavailableException(NativeStatus.UNAVAILABLE, LIBRARY + " is not in this build (the project "
                    + "was built without nvcc, or with -Dlinchpin.cuda=OFF); set LINCHPIN_CUDA_LIB to a built copy", null);
        }
        try (BytePointer p = new BytePointer(path)) {
            int status = LinchpinNative.lp_cuda_load(p);
            if (status == NativeStatus.OK) return null;
            String message = NativeStatus.lastError();
            int kind = status == NativeStatus.UNAVAILABLE ? NativeStatus.UNAVAILABLE : NativeStatus.BACKEND_BROKEN;
            return new BackendUnavailableException(kind, message, null);
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
