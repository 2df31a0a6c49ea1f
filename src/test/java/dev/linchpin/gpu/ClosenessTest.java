package dev.linchpin.gpu;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClosenessTest {
    @Test
    void nanNeverPasses() {
        float[] ref = {1f, 2f, 3f};
        assertNotNull(Closeness.mismatch("x", new float[] {1f, Float.NaN, 3f}, ref, 1, 1, 1));
        assertNotNull(Closeness.mismatch("x", ref, new float[] {1f, Float.NaN, 3f}, 1, 1, 1));
        assertNotNull(Closeness.mismatch("x", new float[] {Float.NaN, Float.NaN, Float.NaN},
                new float[] {Float.NaN, Float.NaN, Float.NaN}, 1, 1, 1));
        assertNotNull(Closeness.mismatch("x", new float[] {1f, Float.POSITIVE_INFINITY, 3f}, ref, 1, 1, 1));
    }

    @Test
    void toleranceIsRelativePlusScaledAbsolute() {
        float[] ref = {100f, 1f, 0f};
        // atol = 1e-3 * 100 = 0.1; element 1 may be off by 0.1 + 1e-2 * 1 = 0.11
        assertNull(Closeness.mismatch("x", new float[] {100.5f, 1.105f, 0.09f}, ref, 1e-2, 1e-3, 0));
        String m = Closeness.mismatch("x", new float[] {100f, 1.12f, 0f}, ref, 1e-2, 1e-3, 0);
        assertNotNull(m);
        assertTrue(m.startsWith("x[1]"), m);
        assertNotNull(Closeness.mismatch("x", new float[] {1f, 2f}, new float[] {1f}, 1, 1, 1), "length mismatch");
    }
}
