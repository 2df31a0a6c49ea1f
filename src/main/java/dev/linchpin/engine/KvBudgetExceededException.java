package dev.linchpin.engine;

import dev.linchpin.UserError;

/** A prefill or rollout request needs more KV-cache memory than the engine's budget has left. */
public final class KvBudgetExceededException extends IllegalStateException implements UserError {
    private static final long serialVersionUID = 1L;

    /** @param message says what needed how many bytes and how much of the budget is in use */
    public KvBudgetExceededException(String message) {
        super(message);
    }
}
