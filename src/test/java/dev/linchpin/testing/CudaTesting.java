package dev.linchpin.testing;

import dev.linchpin.nativ.BackendUnavailableException;
import dev.linchpin.nativ.CudaBackend;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * How tests that need the project's CUDA backend skip honestly (no libtorch here, so the GPU kit's
 * bundle can carry the tests that use it).
 *
 * <p>A test skips only where there is no CUDA at all. It fails instead when a GPU is there but the
 * backend failed ({@link BackendUnavailableException#isBroken()}), and whenever CUDA is required:
 * {@code LINCHPIN_REQUIRE_CUDA=1} (the GPU kit sets it where {@code nvidia-smi} sees a GPU) or
 * {@code -Dlinchpin.requireCuda=true}. So on a GPU host no CUDA test can pass by not running.
 */
public final class CudaTesting {
    /** The environment variable that turns every CUDA skip into a failure. */
    public static final String REQUIRE_ENV = "LINCHPIN_REQUIRE_CUDA";
    /** The message of tests that run only where CUDA is unavailable (their skip on a GPU host is expected). */
    public static final String NO_CUDA_ONLY = "runs only where CUDA is unavailable (it tests the refusal)";

    private CudaTesting() {}

    /** True when CUDA must work here ({@value #REQUIRE_ENV}=1 or -Dlinchpin.requireCuda=true). */
    public static boolean required() {
        return "1".equals(System.getenv(REQUIRE_ENV)) || Boolean.getBoolean("linchpin.requireCuda");
    }

    /** Returns when the CUDA backend is usable; else skips the test, or fails it as the class comment says. */
    public static void assumeCudaBackend() {
        BackendUnavailableException why = CudaBackend.unavailabilityCause();
        if (why == null) return;
        if (why.isBroken()) {
            throw new AssertionFailedError("a GPU is there but the CUDA backend failed: " + CudaBackend.unavailabilityReason(), why);
        }
        if (required()) {
            throw new AssertionFailedError(REQUIRE_ENV + "=1 but CUDA is unavailable: " + CudaBackend.unavailabilityReason(), why);
        }
        Assumptions.abort("no CUDA here: " + CudaBackend.unavailabilityReason());
    }

    /** Skips the test where the CUDA backend is usable: for tests of what happens without it. */
    public static void assumeNoCudaBackend() {
        Assumptions.assumeFalse(CudaBackend.isAvailable(), NO_CUDA_ONLY);
    }

    /** What a GPU test that also needs libtorch's CUDA build does when libtorch has no CUDA device. */
    public static void libtorchCudaMissing(String why) {
        if (required()) throw new AssertionFailedError(REQUIRE_ENV + "=1 but " + why + " (build with -Pgpu)");
        Assumptions.abort(why);
    }
}
