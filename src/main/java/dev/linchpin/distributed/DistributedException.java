package dev.linchpin.distributed;

import dev.linchpin.UserError;

/**
 * A data-parallel job cannot go on: a rank died, stopped answering within the timeout, or the ranks
 * disagree (different data, checkpoints or weights). Every rank that sees it stops; its message names
 * this rank, what it was doing, and the transport's own reason (which names the peer's address).
 */
public final class DistributedException extends RuntimeException implements UserError {
    public DistributedException(String message) {
        super(message);
    }

    public DistributedException(String message, Throwable cause) {
        super(message, cause);
    }
}
