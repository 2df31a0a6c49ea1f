package dev.linchpin.nativ;

/**
 * The {@code lp_status} codes of linchpin.h, and their translation into Java exceptions: the one place
 * on the Java side that maps native errors. Each code is named as in the header without its
 * {@code LP_} / {@code LP_ERR_} prefix; NativeConstantsTest checks every value against the header.
 */
public final class NativeStatus {
    public static final int OK = 0;
    public static final int INVALID_ARGUMENT = 1;
    public static final int OUT_OF_MEMORY = 2;
    public static final int CUDA = 3;
    public static final int UNAVAILABLE = 4;
    public static final int INTERNAL = 5;
    /** A GPU is there but the CUDA backend failed (a library that does not load, an ABI mismatch, ...). */
    public static final int BACKEND_BROKEN = 6;

    private NativeStatus() {}

    /**
     * Throws the exception matching {@code status}, with the native message, unless it is {@link #OK}.
     * Must be called on the thread that made the native call (the message is thread-local).
     */
    public static void check(int status, String operation) {
        if (status == OK) return;
        String message = operation + ": " + lastError();
        switch (status) {
            case INVALID_ARGUMENT -> throw new IllegalArgumentException(message);
            case UNAVAILABLE -> throw new BackendUnavailableException(message);
            case BACKEND_BROKEN -> throw new BackendUnavailableException(BACKEND_BROKEN, message, null);
            default -> throw new LinchpinNativeException(status, message);
        }
    }

    static String lastError() {
        NativeLibrary.ensureLoaded();   // a status is only ever returned by a loaded library; this keeps a bare check() safe
        var text = LinchpinNative.lp_last_error();
        return text == null || text.isNull() ? "" : text.getString();
    }

    static String name(int status) {
        return switch (status) {
            case OK -> "OK";
            case INVALID_ARGUMENT -> "INVALID_ARGUMENT";
            case OUT_OF_MEMORY -> "OUT_OF_MEMORY";
            case CUDA -> "CUDA";
            case UNAVAILABLE -> "UNAVAILABLE";
            case INTERNAL -> "INTERNAL";
            case BACKEND_BROKEN -> "BACKEND_BROKEN";
            default -> "status " + status;
        };
    }
}
