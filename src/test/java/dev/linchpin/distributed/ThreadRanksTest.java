package dev.linchpin.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link ThreadRanks}: ranks as threads of this process, rank 0's result back, and a failing rank's own error. */
class ThreadRanksTest {
    static {
        TorchTesting.seed("ThreadRanksTest");
    }

    @Test
    void everyRankJoinsOneGroupAndRankZerosResultComesBack() throws IOException {
        long[] sums = ThreadRanks.run(3, Duration.ofSeconds(30), "test", dp -> {
            assertEquals(3, dp.worldSize());
            assertEquals("gloo", dp.backendName());
            assertEquals(Thread.currentThread().getName(), "test-rank-" + dp.rank());
            return dp.sum("ranks", dp.rank(), 10L * (dp.rank() + 1));
        });
        assertArrayEquals(new long[] {0 + 1 + 2, 10 + 20 + 30}, sums);
    }

    /**
     * A rank that fails leaves the group, so the others' next collective fails at once instead of waiting
     * out the timeout; the caller sees the failing rank's own error, the others' suppressed under it.
     */
    @Test
    void aFailingRanksOwnErrorComesBackWithoutWaitingForTheTimeout() {
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> ThreadRanks.run(2, Duration.ofSeconds(60), "test", dp -> {
            if (dp.rank() == 1) throw new IOException("rank 1 cannot read its data");
            dp.sum("a count", 1L);   // rank 1 never gets here
            return 0L;
        }));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals("rank 1 cannot read its data", e.getMessage());
        assertEquals(1, e.getSuppressed().length, Arrays.toString(e.getSuppressed()));
        assertTrue(e.getSuppressed()[0] instanceof DistributedException, e.getSuppressed()[0].toString());
        assertTrue(e.getSuppressed()[0].getMessage().contains("rank 0 of 2: a count failed"), e.getSuppressed()[0].getMessage());
        assertTrue(seconds < 30, "rank 0 waited " + seconds + " s for a rank that had already failed");
    }

    @Test
    void refusesOneRank() {
        assertThrows(IllegalArgumentException.class, () -> ThreadRanks.run(1, Duration.ofSeconds(5), "test", dp -> 0));
    }
}
