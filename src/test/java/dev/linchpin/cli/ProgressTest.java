package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void lineShowsBarCountRateAndEta() {
        // 5 of 10 in 10 s: 0.5/s, 5 left → 10 s; bar 14 of 28 filled
        assertEquals("train [##############..............] 5/10  50% 0.50/s ETA 10s loss 1.0",
                Progress.line("train", 5, 10, 10 * SECOND, "loss 1.0"));
        assertEquals("x [............................] 0/4   0% ETA ?", Progress.line("x", 0, 4, 3 * SECOND, ""));
        // 30 of 120 after 60 s: 90 left at 0.5/s = 180 s = 3m00s
        assertTrue(Progress.line("t", 30, 120, 60 * SECOND, null).endsWith(" 0.50/s ETA 3m00s"));
    }

    @Test
    void logModePrintsFirstUpdateThenAtMostOncePerIntervalAndTheLast() {
        long[] now = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, () -> now[0], 5 * SECOND);
        Progress.Task t = p.start("job", 10);
        for (int i = 1; i <= 10; i++) {
            now[0] = i * SECOND;
            t.update(i, "");
        }
        t.finish("ok");
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        // printed at 1 s (first), 6 s (5 s later), 10 s (done), then the summary
        assertEquals(4, lines.length, String.join("\n", lines));
        assertTrue(lines[0].contains(" 1/10 "));
        assertTrue(lines[1].contains(" 6/10 "));
        assertTrue(lines[2].contains(" 10/10 "));
        assertEquals("job: ok (10s)", lines[3]);
        assertTrue(!bytes.toString(StandardCharsets.UTF_8).contains("\r"), "no carriage returns in logs");
    }

    @Test
    void terminalModeRedrawsOneLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> 0L, 5 * SECOND);
        Progress.Task t = p.start("job", 3);
        t.update(1, "");
        t.update(2, "");
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.chars().filter(c -> c == '\r').count());
        assertTrue(!out.contains("\n"), "a bar redraws in place");
    }
}
