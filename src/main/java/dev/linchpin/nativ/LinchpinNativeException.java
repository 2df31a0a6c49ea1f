package dev.linchpin.nativ;

/** A native call failed for a reason other than a bad argument (out of memory, CUDA error, bug). */
public class LinchpinNativeException extends RuntimeException {
    private final int status;

    public LinchpinNativeException(int status, String message) {
        super("[" + NativeStatus.name(status) + "] " + message);
        this.status = status;
    }

    public LinchpinNativeException(String message, Throwable cause) {
        super(message, cause);
        this.status = NativeStatus.INTERNAL;
    }

    /** The {@code lp_status} code, see {@link NativeStatus}. */
    public int status() {
        return status;
    }
}
