package dev.linchpin.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NativeLibraryTest {
    @Test
    void cpuLibraryLoadsAndMatchesTheJavaAbi() {
        assertTrue(NativeLibrary.isAvailable(), () -> "native library unavailable: " + NativeLibrary.unavailabilityCause());
        assertNull(NativeLibrary.unavailabilityCause());
        assertEquals(NativeLibrary.EXPECTED_ABI, LinchpinNative.lp_abi_version());
    }

    @Test
    void cudaAvailabilityIsExplained() {
        if (CudaBackend.isAvailable()) {
            assertNull(CudaBackend.unavailabilityCause());
            assertNull(CudaBackend.unavailabilityReason());
            assertTrue(CudaBackend.deviceCount() > 0);
        } else {
            BackendUnavailableException cause = CudaBackend.unavailabilityCause();
            String reason = CudaBackend.unavailabilityReason();
            assertNotNull(cause);
            assertFalse(reason.isBlank(), "an unavailable backend must say why");
            assertTrue(cause.getMessage().endsWith(reason), cause.getMessage());
            assertEquals(0, CudaBackend.deviceCount());
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, CudaBackend::ensureAvailable);
            assertTrue(e.getMessage().contains(reason));
            assertSame(cause, e.getCause(), "the cause chain is kept");
            assertEquals(cause.status(), e.status());
            System.out.println("CUDA backend unavailable here (" + (cause.isBroken() ? "broken" : "no CUDA") + "): " + reason);
        }
    }

    @Test
    void statusCodesBecomeTheRightExceptions() {
        NativeLibrary.ensureLoaded();   // the messages come from lp_last_error, whatever order the tests run in
        NativeStatus.check(NativeStatus.OK, "ok");
        assertThrows(IllegalArgumentException.class, () -> NativeStatus.check(NativeStatus.INVALID_ARGUMENT, "x"));
        BackendUnavailableException none = assertThrows(BackendUnavailableException.class,
                () -> NativeStatus.check(NativeStatus.UNAVAILABLE, "x"));
        assertFalse(none.isBroken());
        BackendUnavailableException broken = assertThrows(BackendUnavailableException.class,
                () -> NativeStatus.check(NativeStatus.BACKEND_BROKEN, "x"));
        assertTrue(broken.isBroken());
        assertEquals(NativeStatus.BACKEND_BROKEN, broken.status());
        LinchpinNativeException e = assertThrows(LinchpinNativeException.class,
                () -> NativeStatus.check(NativeStatus.CUDA, "x"));
        assertEquals(NativeStatus.CUDA, e.status());
        assertThrows(IllegalArgumentException.class, () -> new BackendUnavailableException(NativeStatus.CUDA, "x", null));
    }
}
