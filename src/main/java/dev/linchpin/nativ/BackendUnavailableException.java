package dev.linchpin.nativ;

import dev.linchpin.UserError;

/** A backend (the native library, or its CUDA part) cannot be used here; the message says why. */
public class BackendUnavailableException extends LinchpinNativeException implements UserError {
    public BackendUnavailableException(String message) {
        super(NativeStatus.UNAVAILABLE, message);
    }
}
