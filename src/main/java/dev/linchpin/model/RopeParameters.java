package dev.linchpin.model;

/**
 * Rotary-embedding parameters: the base θ and, for Llama-3.1-style scaling, the factor, the
 * low/high frequency factors and the original context length (transformers'
 * {@code _compute_llama3_parameters}).
 */
public record RopeParameters(double theta, String type, double factor, double lowFreqFactor,
        double highFreqFactor, long originalMaxPositionEmbeddings) {

    /** Plain RoPE with base θ. */
    public static RopeParameters standard(double theta) {
        return new RopeParameters(theta, "default", 1.0, 1.0, 1.0, 0);
    }

    /** Llama-3.1 frequency scaling. */
    public static RopeParameters llama3(double theta, double factor, double lowFreqFactor, double highFreqFactor,
            long originalMaxPositionEmbeddings) {
        return new RopeParameters(theta, "llama3", factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    /** True for Llama-3 scaling. */
    public boolean isLlama3() {
        return "llama3".equals(type);
    }

    /**
     * The inverse-frequency table [headDim / 2] that both the libtorch model and the rollout engine use,
     * in pure Java so the engine needs no libtorch. It follows transformers' float32 computation step by
     * step ({@code _compute_default_rope_parameters}: {@code 1 / θ^(arange(0, d, 2) / d)};
     * {@code _compute_llama3_parameters}: long wavelengths divided by the factor, the band between
     * interpolated), every operation rounded to float32 as there. The one difference: {@code θ^x} is
     * rounded correctly here, while libtorch's vectorised float32 pow may be one ulp off (about one entry
     * in a hundred differs by that ulp; a relative change of 6e-8 in an angle).
     */
    public float[] inverseFrequencies(int headDim) {
        if (headDim < 2 || headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even and >= 2, got " + headDim);
        float base = (float) theta;
        float[] inv = new float[headDim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = 1.0f / (float) Math.pow(base, exponent);
        }
        if (!isLlama3()) return inv;
        float fFactor = (float) factor, low = (float) lowFreqFactor, high = (float) highFreqFactor;
        float oldContext = (float) originalMaxPositionEmbeddings;
        float lowFreqWavelen = (float) (originalMaxPositionEmbeddings / lowFreqFactor);
        float highFreqWavelen = (float) (originalMaxPositionEmbeddings / highFreqFactor);
        float twoPi = (float) (2 * Math.PI);
        for (int i = 0; i < inv.length; i++) {
            float f = inv[i];
            float wavelen = (1.0f / f) * twoPi;
            // Long wavelengths (low frequencies) are divided by the factor, short ones kept ...
            float scaled = wavelen > lowFreqWavelen ? f / fFactor : f;
            // ... and the band between is interpolated with a smooth factor.
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = ((1.0f / wavelen) * oldContext - low) / (high - low);
                scaled = (-smooth + 1.0f) * scaled / fFactor + smooth * scaled;
            }
            inv[i] = scaled;
        }
        return inv;
    }
}
