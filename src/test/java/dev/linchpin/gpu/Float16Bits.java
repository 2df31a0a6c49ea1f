package dev.linchpin.gpu;

/**
 * bf16 and IEEE fp16 bit patterns from Java floats and back, with round-to-nearest-even, written
 * from the formats' definitions (Java 17 has no Float.floatToFloat16). Used to feed 16-bit inputs to
 * the CUDA kernels and to give the CPU twin exactly the values the GPU sees.
 */
final class Float16Bits {
    private Float16Bits() {}

    /** bf16 = the top 16 bits of the fp32 pattern, rounded to nearest even; NaN stays a (quiet) NaN. */
    static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((bits >>> 16) | 0x0040);
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; overflow to infinity, subnormals kept. */
    static short toF16(float x) {
        int b = Float.floatToRawIntBits(x);
        int sign = (b >>> 16) & 0x8000;
        int exp = (b >>> 23) & 0xFF;
        int mant = b & 0x7FFFFF;
        if (exp == 0xFF) return (short) (sign | 0x7C00 | (mant != 0 ? 0x0200 : 0));
        int e = exp - 127 + 15;                    // binary16 biased exponent
        if (e >= 0x1F) return (short) (sign | 0x7C00);
        if (e <= 0) {                              // subnormal result: value = k * 2^-24
            if (e < -10) return (short) sign;      // |x| < 2^-25 rounds to zero
            int m = mant | 0x800000;
            int shift = 14 - e;
            int k = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int half = 1 << (shift - 1);
            if (rem > half || (rem == half && (k & 1) == 1)) k++;
            return (short) (sign | k);             // k == 0x400 is the smallest normal: still right
        }
        int h = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) h++;   // a carry may reach infinity: right
        return (short) (sign | h);
    }

    static float fromF16(short bits) {
        int v = bits & 0xFFFF;
        float sign = (v & 0x8000) != 0 ? -1f : 1f;
        int exp = (v >>> 10) & 0x1F;
        int mant = v & 0x3FF;
        if (exp == 0) return sign * mant * 0x1p-24f;
        if (exp == 0x1F) return mant == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        return sign * (1024 + mant) * (float) Math.scalb(1.0, exp - 25);
    }
}
