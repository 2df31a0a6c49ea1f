package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void warmsUpLinearlyThenFollowsTheCosineToTheFloor() {
        LrSchedule s = new LrSchedule(1.0, 10, 110, 0.1);
        assertEquals(0.1, s.lr(0), 1e-12);      // (0+1)/10
        assertEquals(0.5, s.lr(4), 1e-12);
        assertEquals(1.0, s.lr(10), 1e-12);     // start of the decay: cos(0) = 1
        // halfway through the 100 decay steps: cos(pi/2) = 0 → floor + half the range
        assertEquals(0.1 + 0.9 * 0.5, s.lr(60), 1e-12);
        // a quarter: 0.5(1 + cos(pi/4))
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.sqrt(0.5)), s.lr(35), 1e-12);
        assertEquals(0.1, s.lr(110), 1e-12);
        assertEquals(0.1, s.lr(500), 1e-12);    // stays at the floor past the end
    }

    @Test
    void rejectsBadParameters() {
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(0, 1, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(Double.NaN, 1, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 11, 10, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new LrSchedule(1, 1, 10, 1.5));
    }
}
