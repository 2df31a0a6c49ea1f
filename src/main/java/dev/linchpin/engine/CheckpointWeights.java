package dev.linchpin.engine;

import dev.linchpin.model.safetensors.DType;
import dev.linchpin.model.safetensors.MappedCheckpoint;
import dev.linchpin.model.safetensors.MappedSafetensors;
import dev.linchpin.model.safetensors.TensorEntry;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Copies a checkpoint's tensors from their memory mappings into a native engine, without libtorch.
 * Names, shapes and dtypes were checked against config.json before ({@code ParameterShapes.checkCheckpoint});
 * here every value is checked finite as it passes. An fp32 tensor is handed to the engine straight from
 * its mapping (the engine copies it into its own store); bf16, fp16 and fp64 tensors, and fp32 ones too
 * large for one mapping, are converted into an fp32 staging buffer chunk by chunk first. Mappings and the
 * staging buffer are released tensor by tensor, so the process holds the engine's weights plus at most
 * one tensor's worth of file pages or staging.
 */
final class CheckpointWeights {
    private CheckpointWeights() {}

    static void copy(Pointer engine, MappedCheckpoint checkpoint, Map<String, long[]> shapes) throws IOException {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            MappedSafetensors file = checkpoint.fileOf(name);
            copyOne(engine, file, file.entry(name), e.getValue(), checkpoint);
        }
        NativeStatus.check(LinchpinNative.lp_engine_finalize(engine), "lp_engine_finalize");
    }

    private static void copyOne(Pointer engine, MappedSafetensors file, TensorEntry e, long[] shape, MappedCheckpoint where)
            throws IOException {
        String name = e.name();
        long n = e.numel();
        if (e.dtype() == DType.F32 && e.byteLength() <= MappedSafetensors.MAX_CHUNK_BYTES) {
            // One mapping: the engine copies straight from the file's pages.
            file.forEachChunk(name, MappedSafetensors.MAX_CHUNK_BYTES, (offset, bytes) -> {
                FloatBuffer floats = bytes.asFloatBuffer();
                checkFinite(floats, 0, name, where);
                try (PointerScope scope = new PointerScope()) {
                    FloatPointer data = new FloatPointer(floats);
                    if (data.address() % Float.BYTES != 0) {   // the file does not align this tensor: copy it first
                        FloatPointer aligned = new FloatPointer(n);
                        aligned.asBuffer().put(floats);
                        data = aligned;
                    }
                    set(engine, name, data, shape);
                }
            });
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            FloatPointer staging = new FloatPointer(Math.max(1, n));
            int elementBytes = e.dtype().byteSize();
            file.forEachChunk(name, MappedSafetensors.MAX_CHUNK_BYTES, (offset, bytes) -> {
                long first = offset / elementBytes;
                int count = bytes.remaining() / elementBytes;
                FloatBuffer dst = staging.position(first).limit(first + count).asBuffer();
                toFloats(e.dtype(), bytes, dst, count);
                checkFinite(dst, first, name, where);
            });
            staging.position(0).limit(Math.max(1, n));
            set(engine, name, staging, shape);
        }
    }

    private static void set(Pointer engine, String name, FloatPointer data, long[] shape) {
        try (PointerScope scope = new PointerScope()) {
            NativeStatus.check(LinchpinNative.lp_engine_set_weight(engine, new BytePointer(name), data, new LongPointer(shape),
                    shape.length), "weight " + name);
        }
    }

    /** {@code count} elements of {@code dtype} from {@code src} (little-endian) into {@code dst}, as float32. */
    static void toFloats(DType dtype, ByteBuffer src, FloatBuffer dst, int count) {
        switch (dtype) {
            case F32:
                dst.put(0, src.asFloatBuffer(), 0, count);
                return;
            case BF16:
                for (int i = 0; i < count; i++) dst.put(i, Float.intBitsToFloat((src.getShort(2 * i) & 0xFFFF) << 16));
                return;
            case F16:
                for (int i = 0; i < count; i++) dst.put(i, halfToFloat(src.getShort(2 * i)));
                return;
            case F64:
                for (int i = 0; i < count; i++) dst.put(i, (float) src.getDouble(8 * i));
                return;
            default:
                throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        }
    }

    /** IEEE 754 binary16 to binary32, exactly (subnormals, infinities and NaN included). */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));   // Inf, NaN
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;   // subnormal (or zero): exact in float32
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    private static void checkFinite(FloatBuffer values, long firstIndex, String name, MappedCheckpoint where) throws IOException {
        int n = values.limit();
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(values.get(i))) {
                throw new IOException(where.dir() + ": tensor '" + name + "' contains NaN or Inf (element " + (firstIndex + i)
                        + ", as float32)");
            }
        }
    }
}
