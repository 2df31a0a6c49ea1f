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
}
