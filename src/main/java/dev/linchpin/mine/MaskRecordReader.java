package dev.linchpin.mine;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Streams the records of a masks file, for every reader of one ({@code show}, the trainer, the
 * report): one record at a time, so a multi-GB file is never held whole. A malformed line followed
 * by more lines is an error naming the file and line; a malformed last line is the torn tail of an
 * interrupted run (records are appended one line at a time) and is skipped.
 */
public final class MaskRecordReader {
    /** Receives each record with its 1-based line number; returns false to stop reading. */
    @FunctionalInterface
    public interface Visitor {
        boolean visit(long line, MaskRecord record) throws IOException;
    }

    private MaskRecordReader() {}

    /**
     * Visits every record of {@code file} in order.
     *
     * @return true when a torn last line was skipped
     * @throws MasksFileException naming the file (and line) when it is missing, unreadable or malformed;
     *                            exceptions the visitor throws pass through unchanged
     */
    public static boolean forEach(Path file, Visitor visitor) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                MaskRecord r;
                try {
                    r = MasksJson.fromLine(line);
                } catch (JsonProcessingException | IllegalArgumentException e) {
                    if (in.ready()) {   // a later line exists: not just the tail of an interrupted run
                        throw new MasksFileException(file, number, "not a mask record: "
                                + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
                    }
                    return true;
                }
                if (!visitor.visit(number, r)) return false;
            }
            return false;
        } catch (NoSuchFileException e) {
            throw new MasksFileException(file, 0, "no such file", e);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new MasksFileException(file, 0, "not UTF-8 text: " + e, e);
        }
    }
}
