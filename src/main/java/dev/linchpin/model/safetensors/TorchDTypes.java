package dev.linchpin.model.safetensors;

import org.bytedeco.pytorch.global.torch.ScalarType;

/** The libtorch scalar type of each {@link DType}, kept apart so that {@link DType} needs no libtorch. */
public final class TorchDTypes {
    private TorchDTypes() {}

    /** The libtorch scalar type holding {@code d} without conversion. */
    public static ScalarType of(DType d) {
        switch (d) {
            case F64: return ScalarType.Double;
            case F32: return ScalarType.Float;
            case F16: return ScalarType.Half;
            case BF16: return ScalarType.BFloat16;
            case I64: return ScalarType.Long;
            case I32: return ScalarType.Int;
            case I16: return ScalarType.Short;
            case I8: return ScalarType.Char;
            case U8: return ScalarType.Byte;
            case BOOL: return ScalarType.Bool;
            default: throw new IllegalArgumentException("no libtorch type for " + d);
        }
    }

    /** The dtype for a libtorch scalar type; throws for types safetensors cannot hold here. */
    public static DType fromTorch(ScalarType type) {
        ScalarType t = type.intern();
        for (DType d : DType.values()) if (of(d) == t) return d;
        throw new IllegalArgumentException("no safetensors dtype for libtorch type " + t);
    }
}
