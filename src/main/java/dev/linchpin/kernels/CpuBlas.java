package dev.linchpin.kernels;

import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeLibrary;
import dev.linchpin.nativ.NativeStatus;

/**
 * The thread count of the process's one OpenBLAS, which libtorch's CPU build and Linchpin's CPU kernels
 * share. libtorch wants it at 1 on small machines (its own intra-op threads call into it); the fused
 * masked linear-CE sets it to its own thread count for its GEMMs and restores it before returning.
 */
public final class CpuBlas {
    private CpuBlas() {}

    /** OpenBLAS's current thread count. */
    public static int threads() {
        NativeLibrary.ensureLoaded();
        return LinchpinNative.lp_blas_num_threads();
    }

    /** Sets OpenBLAS's thread count for the whole process (n ≥ 1), as OPENBLAS_NUM_THREADS does at start. */
    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("OpenBLAS thread count must be >= 1, got " + n);
        NativeLibrary.ensureLoaded();
        NativeStatus.check(LinchpinNative.lp_blas_set_num_threads(n), "set OpenBLAS threads");
    }
}
