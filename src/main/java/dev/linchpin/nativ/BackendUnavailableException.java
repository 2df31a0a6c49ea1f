package dev.linchpin.nativ;

/** A backend (the native library, or its CUDA part) cannot be used here; the message says why. */
public class BackendUnavailableException extends LinchpinNativeException {
    public BackendUnavailableException(String message) {
        super(NativeStatus.UNAVAILABLE, message);
    }
}
