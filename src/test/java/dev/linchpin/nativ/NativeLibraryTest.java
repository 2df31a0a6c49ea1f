package dev.linchpin.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
            assertTrue(CudaBackend.deviceCount() > 0);
        } else {
            String cause = CudaBackend.unavailabilityCause();
            assertNotNull(cause);
            assertFalse(cause.isBlank(), "an unavailable backend must say why");
            assertEquals(0, CudaBackend.deviceCount());
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class, CudaBackend::ensureAvailable);
            assertTrue(e.getMessage().contains(cause));
            System.out.println("CUDA backend unavailable here: " + cause);
        }
    }

    @Test
    void statusCodesBecomeTheRightExceptions() {
        NativeStatus.check(NativeStatus.OK, "ok");
        assertThrows(IllegalArgumentException.class, () -> NativeStatus.check(NativeStatus.INVALID_ARGUMENT, "x"));
        assertThrows(BackendUnavailableException.class, () -> NativeStatus.check(NativeStatus.UNAVAILABLE, "x"));
        LinchpinNativeException e = assertThrows(LinchpinNativeException.class,
                () -> NativeStatus.check(NativeStatus.CUDA, "x"));
        assertEquals(NativeStatus.CUDA, e.status());
    }
}
