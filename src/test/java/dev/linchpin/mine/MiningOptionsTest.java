package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Mining options and shards against hand-computed values (progress lines: dev.linchpin.cli.ProgressTest). */
class MiningOptionsTest {
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
