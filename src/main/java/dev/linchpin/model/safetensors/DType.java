package dev.linchpin.model.safetensors;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** The safetensors element types Linchpin reads and writes, with their libtorch counterparts. */
public enum DType {
    F64(8, ScalarType.Double),
    F32(4, ScalarType.Float),
    F16(2, ScalarType.Half),
    BF16(2, ScalarType.BFloat16),
    I64(8, ScalarType.Long),
    I32(4, ScalarType.Int),
    I16(2, ScalarType.Short),
    I8(1, ScalarType.Char),
    U8(1, ScalarType.Byte),
    BOOL(1, ScalarType.Bool);

    private final int byteSize;
    private final ScalarType torchType;

    DType(int byteSize, ScalarType torchType) {
        this.byteSize = byteSize;
        this.torchType = torchType;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The libtorch scalar type holding this element type without conversion. */
    public ScalarType torchType() {
        return torchType;
    }

    /** The dtype named in a safetensors header ("F32", "BF16", ...), or null when unknown. */
    public static DType fromHeaderName(String name) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** The dtype for a libtorch scalar type; throws for types safetensors cannot hold here. */
    public static DType fromTorch(ScalarType type) {
        ScalarType t = type.intern();
        for (DType d : values()) if (d.torchType == t) return d;
        throw new IllegalArgumentException("no safetensors dtype for libtorch type " + t);
    }
}
