package dev.linchpin.mine;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The append-only, resumable masks file (JSONL, one {@link MaskRecord} per line).
 *
 * <p>Crash safety: every record is one line written with one {@code write} call, and after each batch
 * the file is forced to disk. A process killed at any moment therefore leaves complete lines plus at
 * most one truncated last line (no newline). {@link #openForAppend} cuts such a tail off (truncating
 * to the last newline) before anything is appended, so a resumed run never leaves a broken line, and it
 * reports the ids already finished so that they are not mined (or written) again.
 */
public final class MasksFile implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final Set<String> finished;
    private final long truncatedBytes;

    private MasksFile(Path file, FileChannel channel, Set<String> finished, long truncatedBytes) {
        this.file = file;
        this.channel = channel;
        this.finished = finished;
        this.truncatedBytes = truncatedBytes;
    }

    /**
     * Opens (creating it if needed) {@code file} for appending, after dropping a truncated last line.
     * Each existing complete record is parsed and handed to {@code onExisting} (for summary counts).
     *
     * @throws MasksFileException naming file and line if a complete line is not a valid record or an
     *                            id occurs twice (the file is not one this program wrote)
     */
    public static MasksFile openForAppend(Path file, Consumer<MaskRecord> onExisting) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                long cut = ch.size() - lastCompleteLineEnd(ch);
                if (cut > 0) {
                    ch.truncate(ch.size() - cut);
                    ch.force(true);
                }
                Set<String> ids = scan(file, ch, onExisting);
                ch.position(ch.size());
                return new MasksFile(file, ch, ids, cut);
            } catch (RuntimeException | IOException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            throw new MasksFileException(file, 0, "cannot open for appending: " + e, e);
        }
    }

    /** Offset just past the last '\n' (0 if there is none). */
    private static long lastCompleteLineEnd(FileChannel ch) throws IOException {
        long end = ch.size();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        while (end > 0) {
            long start = Math.max(0, end - buf.capacity());
            buf.clear().limit((int) (end - start));
            long at = start;
            while (buf.hasRemaining()) {
                int r = ch.read(buf, at);
                if (r < 0) throw new IOException("unexpected end of file");
                at += r;
            }
            for (int i = (int) (end - start) - 1; i >= 0; i--) {
                if (buf.get(i) == '\n') return start + i + 1;
            }
            end = start;
        }
        return 0;
    }

    private static Set<String> scan(Path file, FileChannel ch, Consumer<MaskRecord> onExisting) throws IOException {
        Set<String> ids = new LinkedHashSet<>();
        ch.position(0);
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)));
        String line;
        long number = 0;
        try {
            while ((line = in.readLine()) != null) {
                number++;
                MaskRecord r;
                try {
                    r = MasksJson.fromLine(line);
                } catch (JsonProcessingException e) {
                    throw new MasksFileException(file, number, "not a mask record: " + e.getOriginalMessage(), e);
                } catch (IllegalArgumentException e) {
                    throw new MasksFileException(file, number, "not a mask record: " + e.getMessage(), e);
                }
                if (!ids.add(r.id())) throw new MasksFileException(file, number, "duplicate id " + r.id(), null);
                if (onExisting != null) onExisting.accept(r);
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new MasksFileException(file, number + 1, "not valid UTF-8", e);
        }
        return ids;
    }

    /** Ids of the records already in the file. */
    public Set<String> finishedIds() {
        return java.util.Collections.unmodifiableSet(finished);
    }

    /** Bytes of a truncated last line removed on opening (0 if the file ended cleanly). */
    public long truncatedBytes() {
        return truncatedBytes;
    }

    /**
     * Appends a batch: each record one line with one write, then flushes the batch to disk.
     *
     * @throws IllegalArgumentException if a record's id is already in the file
     */
    public void append(List<MaskRecord> records) throws IOException {
        List<byte[]> lines = new ArrayList<>(records.size());
        for (MaskRecord r : records) {
            if (finished.contains(r.id())) throw new IllegalArgumentException(file + ": id " + r.id() + " is already written");
            lines.add((MasksJson.toLine(r) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < lines.size(); i++) {
            ByteBuffer b = ByteBuffer.wrap(lines.get(i));
            while (b.hasRemaining()) channel.write(b);   // regular files: one call writes it all
            finished.add(records.get(i).id());
        }
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
