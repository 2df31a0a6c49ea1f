package dev.linchpin.model.safetensors;

/**
 * The safetensors element types Linchpin reads and writes. Pure Java (no libtorch): the libtorch
 * counterparts live in {@link TorchDTypes}, so readers that never build a libtorch tensor (the rollout
 * engine's loader) run without libtorch on the class path.
 */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types (F64, F32, F16, BF16). */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The dtype named in a safetensors header ("F32", "BF16", ...), or null when unknown. */
    public static DType fromHeaderName(String name) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        return null;
    }
}
