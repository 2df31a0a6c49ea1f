package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Progress lines, options and shards against hand-computed values. */
class ProgressTest {
    @Test
    void rateAndEtaAreComputedFromDoneAndElapsed() {
        // 30 of 120 in 60 s: 30/min, 90 left at 0.5/s = 180 s.
        assertEquals("mine: 30/120 examples, 30.0 examples/min, 500 branch tokens/s, critical 12.5%, ETA 00:03:00",
                Progress.line(30, 120, 30000, 0.125, 60, false));
        assertEquals("[######..................] 30/120 examples, 30.0 examples/min, 500 branch tokens/s, critical 12.5%, ETA 00:03:00",
                Progress.line(30, 120, 30000, 0.125, 60, true));
        assertEquals("01:01:01", Progress.clock(3661));
    }

    @Test
    void logModePrintsOnlyEveryIntervalAndAtTheEnd() {
        StringWriter s = new StringWriter();
        Progress p = new Progress(new PrintWriter(s), false, 3, 3600);
        p.update(1, 0, 0);
        p.update(2, 0, 0);   // within the interval: silent
        p.update(3, 0, 0);   // the end: always printed
        assertEquals(2, s.toString().lines().count(), s.toString());
    }

    @Test
    void budgetsSpansAndShards() {
        MiningOptions o = new MiningOptions(2, 1, 0, 1, 0, 1, 3, 10, 256, 64, 8, 64);
        assertEquals(74, o.branchedResponseBudget(10));
        assertEquals(256, o.branchedResponseBudget(250));
        assertEquals(3, o.spanFrom(20));
        assertEquals(10, o.spanTo(20));
        assertEquals(5, o.spanTo(5));
        assertEquals(2, o.spanFrom(2));
        Shard s = Shard.parse("2/5");
        assertEquals(true, s.contains(7));
        assertEquals(false, s.contains(8));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("5/5"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("a/b"));
        assertThrows(IllegalArgumentException.class, () -> new MiningOptions(2, 1, 0, 1, 0, 0, 0, -1, 16, 8, 1, 1));
    }
}
