package dev.linchpin.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void durationsAreHumanSized() {
        assertEquals("59s", Durations.format(59.4));
        assertEquals("1m05s", Durations.format(65));
        assertEquals("1h02m", Durations.format(3725));
    }

    @Test
    void theSilentListenerAcceptsEverythingButAnEmptyPhase() {
        ProgressListener p = ProgressListener.silent();
        p.message("x");
        ProgressListener.Task t = p.start("phase", 3);
        t.update(1, "");
        t.finish("done");
        assertThrows(IllegalArgumentException.class, () -> p.start("empty", 0));
    }
}
