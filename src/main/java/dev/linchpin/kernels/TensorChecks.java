package dev.linchpin.kernels;

import java.util.Arrays;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Argument checks shared by the kernel facades. Each throws {@link IllegalArgumentException} naming
 * the argument and what was expected, before any native code sees the tensor.
 */
final class TensorChecks {
    private TensorChecks() {}

    static void defined(Tensor t, String name) {
        if (t == null || t.isNull() || !t.defined()) throw new IllegalArgumentException(name + " is null or undefined");
    }

    static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    static void rank(Tensor t, String name, int rank, String layout) {
        if (t.dim() != rank) {
            throw new IllegalArgumentException(name + " must be " + rank + "-D " + layout + ", got shape "
                    + Arrays.toString(shape(t)));
        }
    }

    static void size(Tensor t, String name, int dim, long expected, String meaning) {
        if (t.size(dim) != expected) {
            throw new IllegalArgumentException(name + " has size " + t.size(dim) + " in dimension " + dim
                    + ", expected " + expected + " (" + meaning + "); shape " + Arrays.toString(shape(t)));
        }
    }

    static void dtype(Tensor t, String name, ScalarType... allowed) {
        ScalarType actual = type(t);
        for (ScalarType a : allowed) if (a == actual) return;
        throw new IllegalArgumentException(name + " has dtype " + actual + ", expected " + Arrays.toString(allowed));
    }

    /** The tensor's dtype as an interned enum constant (JavaCPP may hand back a non-canonical instance). */
    static ScalarType type(Tensor t) {
        return t.scalar_type().intern();
    }

    static void contiguous(Tensor t, String name) {
        if (!t.is_contiguous()) {
            throw new IllegalArgumentException(name + " must be contiguous (call .contiguous() first); shape "
                    + Arrays.toString(shape(t)));
        }
    }

    static void sameDevice(Tensor t, String name, Tensor reference, String referenceName) {
        String a = t.device().str().getString(), b = reference.device().str().getString();
        if (!a.equals(b)) {
            throw new IllegalArgumentException(name + " is on " + a + " but " + referenceName + " is on " + b);
        }
    }

    /** First index where {@code bad} (a bool tensor) is true, or -1. Synchronises on CUDA. */
    static long firstTrue(Tensor bad) {
        if (!bad.any().item_bool()) return -1;
        return bad.nonzero().get(0).get(0).item_long();
    }

    static Scalar scalar(double v) {
        return new Scalar(v);
    }
}
