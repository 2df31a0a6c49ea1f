package dev.linchpin.mine;

import dev.linchpin.UserError;
import java.nio.file.Path;

/** A masks file cannot be read or resumed; the message names the file and, where it applies, the line. */
public class MasksFileException extends RuntimeException implements UserError {
    private static final long serialVersionUID = 1L;

    public MasksFileException(Path file, long line, String problem, Throwable cause) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem, cause);
    }
}
