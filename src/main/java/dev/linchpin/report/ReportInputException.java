package dev.linchpin.report;

import dev.linchpin.UserError;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A file of the run directory exists but is not what the demo writes (malformed JSON, a wrong type, an
 * index out of range). The message names the file and, where it applies, the line.
 */
public class ReportInputException extends IOException implements UserError {
    private static final long serialVersionUID = 1L;

    /** {@code line} is 1-based; 0 when the problem is not tied to one line. */
    public ReportInputException(Path file, long line, String problem, Throwable cause) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem, cause);
    }

    /** The same problem found by the masks reader, whose message already names file and line. */
    ReportInputException(dev.linchpin.mine.MasksFileException cause) {
        super(cause.getMessage(), cause);
    }

    public ReportInputException(Path file, String problem) {
        this(file, 0, problem, null);
    }
}
