package dev.linchpin.tokenizer;

import dev.linchpin.UserError;

/**
 * A chat template could not be rendered: it called {@code raise_exception(msg)} (then
 * {@link #raisedByTemplate()} is true and the message is the template's), or it uses a feature the
 * renderer lacks, or it is malformed. The message names the template's source file.
 */
public class ChatTemplateException extends RuntimeException implements UserError {
    private static final long serialVersionUID = 1L;
    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** True when the template itself rejected its input through {@code raise_exception}. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
