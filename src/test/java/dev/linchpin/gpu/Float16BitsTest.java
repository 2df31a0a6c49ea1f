package dev.linchpin.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bit patterns are derived by hand from the format definitions (IEEE 754 binary16; bf16 = fp32's top half). */
class Float16BitsTest {
    private static void bf16(float x, int expected) {
        assertEquals(expected, Float16Bits.toBf16(x) & 0xFFFF, () -> "bf16(" + x + ")");
    }

    private static void f16(float x, int expected) {
        assertEquals(expected, Float16Bits.toF16(x) & 0xFFFF, () -> "f16(" + x + ")");
    }

    @Test
    void bf16RoundsToNearestEven() {
        bf16(1.0f, 0x3F80);
        bf16(-2.0f, 0xC000);
        bf16(0.0f, 0x0000);
        bf16(-0.0f, 0x8000);
        bf16(1f + 0x1p-8f, 0x3F80);              // exactly half an ulp above 1: ties to the even 0x3F80
        bf16(1f + 3 * 0x1p-8f, 0x3F82);          // half-way between 0x3F81 and 0x3F82: even wins
        bf16(1f + 0x1p-8f + 0x1p-20f, 0x3F81);   // just above half: rounds up
        bf16(Float.MAX_VALUE, 0x7F80);           // rounds past the largest bf16: infinity
        bf16(Float.NEGATIVE_INFINITY, 0xFF80);
        int nan = Float16Bits.toBf16(Float.NaN) & 0xFFFF;
        assertTrue((nan & 0x7F80) == 0x7F80 && (nan & 0x007F) != 0, "bf16 NaN stays NaN: " + Integer.toHexString(nan));
        assertEquals(1.0078125f, Float16Bits.fromBf16((short) 0x3F81));
        assertEquals(-2.0f, Float16Bits.fromBf16((short) 0xC000));
    }

    @Test
    void f16RoundsToNearestEvenWithSubnormalsAndOverflow() {
        f16(1.0f, 0x3C00);
        f16(-2.0f, 0xC000);
        f16(-0.0f, 0x8000);
        f16(65504f, 0x7BFF);                     // largest finite binary16
        f16(65519f, 0x7BFF);                     // below the half-way point 65520
        f16(65520f, 0x7C00);                     // half-way, 0x7BFF is odd: ties to even = infinity
        f16(0x1p-14f, 0x0400);                   // smallest normal
        f16(0x1p-24f, 0x0001);                   // smallest subnormal
        f16(0x1p-25f, 0x0000);                   // half of it: ties to the even zero
        f16(1.5f * 0x1p-25f, 0x0001);            // above half: rounds up
        f16(1f + 0x1p-11f, 0x3C00);              // half an ulp above 1: ties to even
        f16(1f + 3 * 0x1p-11f, 0x3C02);
        f16(0.1f, 0x2E66);                       // 0.1 = 1.6 * 2^-4: mantissa 0.6 * 1024 = 614.4 -> 614
        f16(1f / 3f, 0x3555);                    // 1/3 = 1.333 * 2^-2: mantissa 341.33 -> 341
        f16(Float.POSITIVE_INFINITY, 0x7C00);
        int nan = Float16Bits.toF16(Float.NaN) & 0xFFFF;
        assertTrue((nan & 0x7C00) == 0x7C00 && (nan & 0x03FF) != 0, "f16 NaN stays NaN: " + Integer.toHexString(nan));
        assertEquals(0.333251953125f, Float16Bits.fromF16((short) 0x3555));
        assertEquals(0x1p-24f, Float16Bits.fromF16((short) 0x0001));
        assertEquals(65504f, Float16Bits.fromF16((short) 0x7BFF));
        assertEquals(-0x1p-14f, Float16Bits.fromF16((short) 0x8400));
        assertEquals(Float.POSITIVE_INFINITY, Float16Bits.fromF16((short) 0x7C00));
        assertTrue(Float.isNaN(Float16Bits.fromF16((short) 0x7E00)));
    }

    @Test
    void everyF16PatternSurvivesARoundTrip() {
        // Decoding then encoding must give the same pattern for every non-NaN binary16 value: this pins
        // the decoder and the encoder to each other over all 63488 finite and infinite patterns.
        for (int v = 0; v < 0x10000; v++) {
            if ((v & 0x7C00) == 0x7C00 && (v & 0x3FF) != 0) continue;
            float x = Float16Bits.fromF16((short) v);
            assertEquals(v, Float16Bits.toF16(x) & 0xFFFF, "pattern " + Integer.toHexString(v));
        }
    }
}
