package dev.linchpin.gpu;

/**
 * Element-wise closeness with a tolerance scaled to the array: |got - ref| <= arel * max|ref| + floor
 * + rtol * |ref|. Written as {@code !(err <= tol)} so a NaN in either array never passes.
 */
final class Closeness {
    private Closeness() {}

    /** Null if every element is close, else a message naming the array, the index and both values. */
    static String mismatch(String name, float[] got, float[] ref, double rtol, double arel, double floor) {
        if (got.length != ref.length) return name + ": length " + got.length + " != " + ref.length;
        double scale = 0;
        for (float r : ref) if (Float.isFinite(r)) scale = Math.max(scale, Math.abs(r));
        double atol = arel * scale + floor;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) got[i] - ref[i]);
            double tol = atol + rtol * Math.abs((double) ref[i]);
            if (!(err <= tol)) {
                return name + "[" + i + "] = " + got[i] + ", reference " + ref[i] + " (|err| " + err + " > tol " + tol + ")";
            }
        }
        return null;
    }
}
