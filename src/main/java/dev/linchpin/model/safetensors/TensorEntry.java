package dev.linchpin.model.safetensors;

import java.util.Arrays;

/**
 * One tensor described by a safetensors header: its element type, shape and the byte span
 * [begin, end) relative to the start of the data buffer (after the header).
 */
public record TensorEntry(String name, DType dtype, long[] shape, long begin, long end) {
    /** Number of elements (1 for a scalar, shape []). */
    public long numel() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    /** Size of the data span in bytes. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + "," + end + ")";
    }
}
