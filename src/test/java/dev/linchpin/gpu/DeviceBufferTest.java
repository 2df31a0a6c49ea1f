package dev.linchpin.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.nativ.BackendUnavailableException;
import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.nativ.CudaDevice;
import dev.linchpin.nativ.DeviceBuffer;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeStatus;
import dev.linchpin.testing.CudaTesting;
import java.util.Random;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class DeviceBufferTest {
    @Test
    void negativeSizesAreRefusedBeforeAnyNativeCall() {
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(-1));
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(-3, 4));
        assertThrows(IllegalArgumentException.class, () -> DeviceBuffer.allocate(3, 0));
        assertThrows(ArithmeticException.class, () -> DeviceBuffer.allocate(Long.MAX_VALUE / 2, 4));
    }

    @Test
    void withoutCudaEveryEntryPointSaysWhy() {
        CudaTesting.assumeNoCudaBackend();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> DeviceBuffer.allocate(16));
        assertTrue(e.getMessage().contains(CudaBackend.unavailabilityReason()), e.getMessage());
        assertThrows(BackendUnavailableException.class, CudaDevice::name);
        assertThrows(BackendUnavailableException.class, CudaDevice::synchronize);
        assertThrows(BackendUnavailableException.class, CudaDevice::memoryInfo);
        // the raw ABI refuses too (backend not loaded), with a message, instead of crashing
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            assertEquals(NativeStatus.UNAVAILABLE, LinchpinNative.lp_cuda_malloc(16, out));
            assertTrue(out.get(0) == null || out.get(0).isNull(), "no pointer handed out on failure");
        }
        assertEquals(NativeStatus.UNAVAILABLE, LinchpinNative.lp_cuda_synchronize());
        assertEquals(NativeStatus.INVALID_ARGUMENT, LinchpinNative.lp_cuda_malloc(16, null));
    }

    @Test
    @Tag("gpu")
    void roundTripsPoisonsAndChecksBounds() {
        CudaTesting.assumeCudaBackend();
        String name = CudaDevice.name();
        assertTrue(name.matches(".+ \\(sm_\\d+\\)"), name);
        long[] mem = CudaDevice.memoryInfo();
        assertTrue(mem[0] > 0 && mem[0] <= mem[1], "free " + mem[0] + " total " + mem[1]);

        Random rnd = new Random(GpuTestSeeds.seed("device buffer round trip"));
        float[] data = new float[1000 + rnd.nextInt(1000)];
        for (int i = 0; i < data.length; i++) data[i] = rnd.nextFloat() * 2 - 1;
        short[] bits = new short[777];
        for (int i = 0; i < bits.length; i++) bits[i] = (short) rnd.nextInt(65536);
        DeviceBuffer closedOne;
        try (DeviceBuffer b = DeviceBuffer.allocate(data.length, 4)) {
            closedOne = b;
            b.upload(data);
            float[] back = new float[data.length];
            b.download(back);
            assertArrayEquals(data, back);
            b.fill(0xFF);                       // every fp32 element becomes the NaN 0xFFFFFFFF
            b.download(back);
            for (float x : back) assertEquals(0xFFFFFFFF, Float.floatToRawIntBits(x));
            b.upload(bits);
            short[] bitsBack = new short[bits.length];
            b.download(bitsBack);
            assertArrayEquals(bits, bitsBack);
            assertThrows(IllegalArgumentException.class, () -> b.upload(new float[data.length + 1]));
            assertThrows(IllegalArgumentException.class, () -> b.download(new float[data.length + 1]));
            CudaDevice.synchronize();
        }
        assertThrows(IllegalStateException.class, closedOne::pointer);
        closedOne.close();   // idempotent
        try (DeviceBuffer empty = DeviceBuffer.allocate(0)) {
            assertTrue(empty.pointer().isNull());
            empty.fill(0);
            empty.upload(new float[0]);
        }
        assertFalse(name.isBlank());
    }
}
