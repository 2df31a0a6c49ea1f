package dev.linchpin.engine;

import dev.linchpin.nativ.BackendUnavailableException;
import dev.linchpin.nativ.LinchpinNativeException;

/**
 * When one example of a long job (mining, evaluation) fails, whether the job records it with its
 * reason and goes on, or stops. An example's own failure (its prompt does not fit the KV budget, its
 * text cannot be encoded, decoded or verified, a bad argument it leads to) is recorded; a failure of
 * the machinery (a native out-of-memory or CUDA error, an unavailable backend, a closed engine) stops
 * the job, as does a run of {@link #MAX_IN_A_ROW} failing examples in a row: then the cause is not the
 * examples (a broken prompt template, a tokenizer that does not fit the model) and recording them as
 * failed would make a resumed job skip them.
 */
public final class ItemFailures {
    /** Consecutive failing examples after which a job stops instead of recording them. */
    public static final int MAX_IN_A_ROW = 8;

    private ItemFailures() {}

    /** True when {@code e}, thrown while working on some examples, may be blamed on one of them. */
    public static boolean isItemSpecific(RuntimeException e) {
        if (e instanceof LinchpinNativeException || e instanceof BackendUnavailableException) return false;
        if (e instanceof IllegalStateException && !(e instanceof KvBudgetExceededException)) return false;
        return true;
    }

    /** The reason recorded for a failed example: the exception's kind and message, on one line. */
    public static String reason(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ').replace('\r', ' ');
        return e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }
}
