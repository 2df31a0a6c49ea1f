package dev.linchpin;

/**
 * Marks an exception caused by what the user gave (a malformed input file, an option value, a model the
 * project cannot run, a device that is not there, a training run that diverged) rather than by a bug. Its
 * message says what is wrong and where (file, line, tensor, option), so the command line prints only the
 * message and exits with status 1; any other exception is an internal error (stack trace, status 3).
 *
 * <p>An interface, not a base class, because user errors come both checked ({@code IOException}s of
 * file parsers) and unchecked. The JDK's own bad-input types, {@link IllegalArgumentException} and I/O
 * errors, count as user errors too.
 */
public interface UserError {
    /** What went wrong, for the user: names the file, line, tensor or option where there is one. */
    String getMessage();

    /** Whether {@code t} is a user error: a {@link UserError}, an {@link IllegalArgumentException} or an I/O error. */
    static boolean isUserError(Throwable t) {
        return t instanceof UserError || t instanceof IllegalArgumentException || t instanceof java.io.IOException
                || t instanceof java.io.UncheckedIOException;
    }
}
