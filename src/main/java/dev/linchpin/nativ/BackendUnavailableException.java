package dev.linchpin.nativ;

import dev.linchpin.UserError;

/**
 * A backend (the native library, or its CUDA part) cannot be used here; the message says why.
 *
 * <p>Two kinds, by {@link #status()}: {@link NativeStatus#UNAVAILABLE} — there is no such backend here
 * (built without nvcc, no driver, no capable device) — and {@link NativeStatus#BACKEND_BROKEN} — a GPU
 * is there but the backend failed (a library that does not load, a missing symbol, an ABI mismatch, a
 * CUDA error while probing). Tests skip on the first and fail on the second.
 */
public class BackendUnavailableException extends LinchpinNativeException implements UserError {
    public BackendUnavailableException(String message) {
        super(NativeStatus.UNAVAILABLE, message);
    }

    /**
     * @param status {@link NativeStatus#UNAVAILABLE} or {@link NativeStatus#BACKEND_BROKEN}
     * @param cause  the failure underneath (may be null), kept as the cause chain
     */
    public BackendUnavailableException(int status, String message, Throwable cause) {
        super(status, message);
        if (status != NativeStatus.UNAVAILABLE && status != NativeStatus.BACKEND_BROKEN) {
            throw new IllegalArgumentException("not an availability status: " + NativeStatus.name(status));
        }
        if (cause != null) initCause(cause);
    }

    /** True when a GPU is there but the backend failed ({@link NativeStatus#BACKEND_BROKEN}), not merely absent. */
    public boolean isBroken() {
        return status() == NativeStatus.BACKEND_BROKEN;
    }
}
