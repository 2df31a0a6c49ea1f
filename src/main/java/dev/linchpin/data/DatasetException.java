package dev.linchpin.data;

import dev.linchpin.UserError;
import java.nio.file.Path;

/** A data-set file could not be read or a record in it is malformed; the message names file and line. */
public class DatasetException extends RuntimeException implements UserError {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final long line;

    public DatasetException(Path file, long line, String problem, Throwable cause) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    public DatasetException(Path file, long line, String problem) {
        this(file, line, problem, null);
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** The 1-based line, or 0 when the problem is not on a line (e.g. the file cannot be opened). */
    public long line() {
        return line;
    }
}
