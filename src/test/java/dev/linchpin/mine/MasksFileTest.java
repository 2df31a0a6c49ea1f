package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The masks file's resume rules on hand-written files: torn tails, corrupt lines, duplicates. */
class MasksFileTest {
    @TempDir
    Path dir;

    static MaskRecord record(String id, long index) {
        return new MaskRecord(id, index, "q", "1", false, null, 3, new long[] {5, 0}, List.of("5", "<eos>"), "5",
                List.of(), List.of());
    }

    static String line(String id, long index) {
        return MasksJson.toLine(record(id, index)) + "\n";
    }

    @Test
    void aTornLastLineIsCutOffAndCompleteRecordsAreKept() throws IOException {
        Path f = dir.resolve("m.jsonl");
        String complete = line("a", 0) + line("b", 1);
        Files.writeString(f, complete + line("c", 2).substring(0, 20), StandardCharsets.UTF_8);
        List<String> seen = new ArrayList<>();
        try (MasksFile m = MasksFile.openForAppend(f, r -> seen.add(r.id()))) {
            assertEquals(List.of("a", "b"), seen);
            assertEquals(Set.of("a", "b"), m.finishedIds());
            assertEquals(20, m.truncatedBytes());
            m.append(List.of(record("c", 2)));
        }
        assertEquals(complete + line("c", 2), Files.readString(f, StandardCharsets.UTF_8));
    }

    @Test
    void aFileWithoutAnyNewlineIsEmptiedAndAMissingFileIsCreated() throws IOException {
        Path f = dir.resolve("torn.jsonl");
        Files.writeString(f, "{\"id\":\"x\"");
        try (MasksFile m = MasksFile.openForAppend(f, null)) {
            assertTrue(m.finishedIds().isEmpty());
        }
        assertEquals(0, Files.size(f));
        Path fresh = dir.resolve("sub/new.jsonl");
        try (MasksFile m = MasksFile.openForAppend(fresh, null)) {
            assertTrue(m.finishedIds().isEmpty());
        }
        assertTrue(Files.exists(fresh));
    }

    @Test
    void aCorruptCompleteLineNamesFileAndLine() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, line("a", 0) + "{not json}\n" + line("b", 1));
        MasksFileException e = assertThrows(MasksFileException.class, () -> MasksFile.openForAppend(f, null));
        assertTrue(e.getMessage().startsWith(f + ":2: "), e.getMessage());
        Path noId = dir.resolve("noid.jsonl");
        Files.writeString(noId, "{\"index\":0}\n");
        MasksFileException e2 = assertThrows(MasksFileException.class, () -> MasksFile.openForAppend(noId, null));
        assertTrue(e2.getMessage().startsWith(noId + ":1: "), e2.getMessage());
    }

    @Test
    void duplicateIdsAreRejectedOnReadAndOnAppend() throws IOException {
        Path f = dir.resolve("dup.jsonl");
        Files.writeString(f, line("a", 0) + line("a", 1));
        MasksFileException e = assertThrows(MasksFileException.class, () -> MasksFile.openForAppend(f, null));
        assertTrue(e.getMessage().startsWith(f + ":2: duplicate id a"), e.getMessage());
        Path g = dir.resolve("ok.jsonl");
        Files.writeString(g, line("a", 0));
        try (MasksFile m = MasksFile.openForAppend(g, null)) {
            assertThrows(IllegalArgumentException.class, () -> m.append(List.of(record("a", 0))));
        }
        assertEquals(line("a", 0), Files.readString(g), "nothing was written");
    }

    @Test
    void recordsRoundTripAsOneLine() throws IOException {
        MaskRecord r = new MaskRecord("id\nwith newline", 7, "line1\nline2", "42", true, "42", 4, new long[] {1, 2},
                List.of("a", "\n"), "a\n", List.of(1),
                List.of(new MaskRecord.Position(1, 2, 0.5f, true, List.of(new MaskRecord.Alternative(3, "x", 0.25f, true,
                        List.of(new MaskRecord.Continuation(null, false, 0)))))));
        String json = MasksJson.toLine(r);
        assertTrue(!json.contains("\n"), json);
        MaskRecord back = MasksJson.fromLine(json);
        assertEquals(json, MasksJson.toLine(back));
        assertEquals("id\nwith newline", back.id());
        assertEquals(0.5f, back.positions().get(0).p());
    }
}
