package dev.linchpin.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl as FineTuner writes it for a two-stage objective (SFTKey: full SFT, then the answer span). */
class TrainMetricsTest {
    @TempDir
    Path dir;

    private static String line(int step, String stage, double loss, double tps, double fraction) {
        return String.format(java.util.Locale.ROOT,
                "{\"step\":%d,\"stage\":\"%s\",\"loss\":%s,\"lr\":1.0E-4,\"grad_norm\":0.5,\"tokens_per_s\":%s,\"trained_token_fraction\":%s}%n",
                step, stage, loss, tps, fraction);
    }

    @Test
    void stagesAreSummarisedSeparately() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, line(1, "stage1", 3.0, 100, 1.0) + line(2, "stage1", 2.5, 120, 1.0)
                + line(3, "answer", 1.2, 50, 0.2) + line(4, "answer", 0.8, 70, 0.3));
        TrainMetrics m = TrainMetrics.read(f, "sftkey");
        assertFalse(m.truncatedTail());
        assertEquals(4, m.steps().size());
        assertEquals((1.0 + 1.0 + 0.2 + 0.3) / 4, m.meanTrainedTokenFraction(), 1e-12);
        assertEquals(0.8, m.finalLoss(), 0);
        List<TrainMetrics.StageSummary> s = m.stageSummaries();
        assertEquals(2, s.size());
        assertEquals(new TrainMetrics.StageSummary("stage1", 2, 1.0, 110, 2.5), s.get(0));
        assertEquals("answer", s.get(1).stage());
        assertEquals(0.25, s.get(1).meanTrainedTokenFraction(), 1e-12);
        assertEquals(60, s.get(1).meanTokensPerS(), 1e-12);
        assertEquals(0.8, s.get(1).finalLoss(), 0);
    }

    @Test
    void aTornLastLineIsIgnoredButATornMiddleLineIsAnError() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, line(1, "cft", 3.0, 100, 0.1) + "{\"step\":2,\"lo");
        TrainMetrics m = TrainMetrics.read(f, "cft");
        assertTrue(m.truncatedTail());
        assertEquals(1, m.steps().size());
        Files.writeString(f, line(1, "cft", 3.0, 100, 0.1) + "{\"step\":2,\"lo\n" + line(3, "cft", 2.0, 100, 0.1));
        ReportInputException e = assertThrows(ReportInputException.class, () -> TrainMetrics.read(f, "cft"));
        assertTrue(e.getMessage().startsWith(f + ":2: not a metrics line"), e.getMessage());
        Files.writeString(f, line(1, "cft", 3.0, 100, 0.1).replace("\"loss\":3.0", "\"loss\":null") + line(2, "cft", 2.0, 100, 0.1));
        e = assertThrows(ReportInputException.class, () -> TrainMetrics.read(f, "cft"));
        assertTrue(e.getMessage().contains(":1: not a metrics line: 'loss' is missing or not a finite number"), e.getMessage());
    }
}
