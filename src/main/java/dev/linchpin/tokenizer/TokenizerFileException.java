package dev.linchpin.tokenizer;

import dev.linchpin.UserError;
import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer file is missing, unreadable or malformed; the message and {@link #file()} name it. */
public class TokenizerFileException extends IOException implements UserError {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    public TokenizerFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public TokenizerFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}
