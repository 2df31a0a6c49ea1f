package dev.linchpin.nativ;

import org.bytedeco.javacpp.Loader;

/**
 * Loads {@code liblinchpin.so} (CPU twins + CUDA dispatcher) and its JNI glue, once per process.
 *
 * <p>OpenBLAS is loaded first through bytedeco's preset: it is the same {@code libopenblas.so.0}
 * libtorch's CPU build uses, and our library resolves against the copy already in the process.
 * A failure is remembered: {@link #isAvailable()} turns false and {@link #unavailabilityCause()} says
 * why, and every later {@link #api()} call throws with that cause instead of retrying.
 */
public final class NativeLibrary {
    /** LP_ABI_VERSION of the linchpin.h these bindings were written against. */
    static final int EXPECTED_ABI = LinchpinNative.LP_ABI_VERSION;
    private static final Object LOCK = new Object();
    private static volatile boolean attempted;
    private static volatile Throwable failure;

    private NativeLibrary() {}

    /** Loads the library if needed; throws {@link BackendUnavailableException} if it cannot be. */
    public static void ensureLoaded() {
        if (!attempted) {
            synchronized (LOCK) {
                if (!attempted) {
                    failure = tryLoad();
                    attempted = true;
                }
            }
        }
        if (failure != null) {
            BackendUnavailableException e = new BackendUnavailableException(
                    "Linchpin's native library cannot be loaded: " + failure.getMessage());
            e.initCause(failure);
            throw e;
        }
    }

    /** True if the native library is loaded and usable (loading it if needed). */
    public static boolean isAvailable() {
        try {
            ensureLoaded();
            return true;
        } catch (BackendUnavailableException e) {
            return false;
        }
    }

    /** Why the native library is not available, or null if it is. */
    public static String unavailabilityCause() {
        return isAvailable() ? null : failure.toString();
    }

    private static Throwable tryLoad() {
        try {
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            Loader.load(LinchpinNative.class);
            int abi = LinchpinNative.lp_abi_version();
            if (abi != EXPECTED_ABI) {
                return new IllegalStateException("liblinchpin.so has ABI " + abi + ", the Java side expects "
                        + EXPECTED_ABI + " (stale native build: run mvn clean package)");
            }
            return null;
        } catch (Throwable t) {   // UnsatisfiedLinkError, missing resources, ...: remembered as the cause
            return t;
        }
    }
}
