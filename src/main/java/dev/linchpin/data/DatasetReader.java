package dev.linchpin.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Streams {@link Example}s from a JSONL data set, one line at a time (constant memory). Blank lines
 * are skipped; anything else that is not a valid record of the format - bad JSON, bad UTF-8, a missing
 * field, a field of the wrong type, a line over the length limit - throws a {@link DatasetException}
 * naming the file and the 1-based line.
 *
 * <pre>{@code
 * try (Stream<Example> examples = DatasetReader.stream(Path.of("gsm8k/test.jsonl"), DatasetFormat.AUTO)) {
 *     examples.forEach(e -> ...);
 * }
 * }</pre>
 */
public final class DatasetReader implements Iterator<Example>, AutoCloseable {
    /** Default longest line: far above any real math record, far below a memory problem. */
    public static final int DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final BoundedLineReader lines;
    private final RecordParser parser;
    private DatasetFormat format;
    private long lineNumber;
    private Example next;
    private boolean closed;

    /**
     * Opens {@code file} with lines limited to {@link #DEFAULT_MAX_LINE_BYTES}; {@link DatasetFormat#AUTO}
     * decides the format from the first record.
     *
     * @throws DatasetException if the file cannot be opened
     */
    public static DatasetReader open(Path file, DatasetFormat format) {
        return open(file, format, DEFAULT_MAX_LINE_BYTES);
    }

    /** As {@link #open(Path, DatasetFormat)} with another line limit (bytes of UTF-8). */
    public static DatasetReader open(Path file, DatasetFormat format, int maxLineBytes) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(format, "format");
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be >= 1, got " + maxLineBytes);
        }
        try {
            return new DatasetReader(file, format, new BoundedLineReader(Files.newInputStream(file), maxLineBytes));
        } catch (IOException e) {
            throw new DatasetException(file, 0, "cannot open: " + e, e);
        }
    }

    /** A stream over {@link #open}; close it (try-with-resources) to close the file. */
    public static Stream<Example> stream(Path file, DatasetFormat format) {
        DatasetReader reader = open(file, format);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(reader,
                Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(reader::close);
    }

    /** The format of the first record of {@code file}. */
    public static DatasetFormat detect(Path file) {
        try (DatasetReader r = open(file, DatasetFormat.AUTO)) {
            if (r.hasNext()) {
                r.next();
            }
            if (r.format == DatasetFormat.AUTO) {
                throw new DatasetException(file, 0, "no records to detect the format from");
            }
            return r.format;
        }
    }

    private DatasetReader(Path file, DatasetFormat format, BoundedLineReader lines) {
        this.file = file;
        this.format = format;
        this.lines = lines;
        this.parser = new RecordParser(file);
    }

    /** The format being read (still {@link DatasetFormat#AUTO} until the first record is read). */
    public DatasetFormat format() {
        return format;
    }

    @Override
    public boolean hasNext() {
        if (next == null && !closed) {
            next = readNext();
        }
        return next != null;
    }

    @Override
    public Example next() {
        if (!hasNext()) {
            throw new NoSuchElementException("no more records in " + file);
        }
        Example e = next;
        next = null;
        return e;
    }

    private Example readNext() {
        while (true) {
            String line;
            try {
                line = lines.readLine();
            } catch (BoundedLineReader.LineTooLongException e) {
                throw new DatasetException(file, lineNumber + 1, e.getMessage(), e);
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new DatasetException(file, lineNumber + 1, "not valid UTF-8 (" + e + ")", e);
            } catch (IOException e) {
                throw new DatasetException(file, lineNumber + 1, "cannot read (" + e + ")", e);
            }
            if (line == null) {
                close();
                return null;
            }
            lineNumber++;
            if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1); // byte-order mark
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode record;
            try {
                record = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new DatasetException(file, lineNumber, "invalid JSON: " + e.getOriginalMessage(), e);
            }
            if (format == DatasetFormat.AUTO) {
                DatasetFormat detected = DatasetFormat.detect(record);
                if (detected == null) {
                    throw new DatasetException(file, lineNumber, "cannot detect the format from "
                            + (record.isObject() ? "fields " + DatasetFormat.fieldNames(record) : RecordParser.kind(record))
                            + "; expected messages, question+answer, problem+solution or prompt+completion");
                }
                format = detected;
            }
            return parser.parse(record, format, lineNumber);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                lines.close();
            } catch (IOException e) {
                throw new UncheckedIOException("closing " + file, e);
            }
        }
    }
}
