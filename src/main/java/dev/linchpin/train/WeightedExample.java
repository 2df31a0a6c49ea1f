package dev.linchpin.train;

import java.util.Arrays;

/**
 * One training sequence with a float weight per response token: the single mechanism behind every
 * objective (SFT: all 1; CFT: 1 at critical positions; SFTKey stage 2: 1 on the answer span; random and
 * numeric ablations: 1 on their chosen positions; DFT: 1 everywhere, rescaled by sg(p) in the loss).
 *
 * <p>{@code weights[t]} belongs to {@code response[t]}: under the shift convention of
 * {@link WeightedBatch} it lands on the position that predicts that token. The EOS that ends a
 * response is an ordinary response token here, supervised whenever its weight is nonzero.
 *
 * @param prompt   prompt token ids (context only), at least one
 * @param response response token ids, at least one
 * @param weights  one finite weight per response token (0 = not trained)
 */
public record WeightedExample(long[] prompt, long[] response, float[] weights) {
    public WeightedExample {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (response == null || response.length == 0) throw new IllegalArgumentException("response is empty");
        if (weights == null || weights.length != response.length) {
            throw new IllegalArgumentException("need one weight per response token: " + response.length + " tokens, "
                    + (weights == null ? "no" : String.valueOf(weights.length)) + " weights");
        }
        for (int t = 0; t < weights.length; t++) {
            if (!Float.isFinite(weights[t])) throw new IllegalArgumentException("weight of response token " + t + " is " + weights[t]);
        }
        prompt = prompt.clone();
        response = response.clone();
        weights = weights.clone();
    }

    /** Response tokens with a nonzero weight: the example's share of the token-mean denominator. */
    public int trainableTokens() {
        int n = 0;
        for (float w : weights) if (w != 0f) n++;
        return n;
    }

    /** Prompt plus response length. */
    public int length() {
        return prompt.length + response.length;
    }

    @Override public long[] prompt() { return prompt.clone(); }
    @Override public long[] response() { return response.clone(); }
    @Override public float[] weights() { return weights.clone(); }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightedExample e && Arrays.equals(prompt, e.prompt) && Arrays.equals(response, e.response)
                && Arrays.equals(weights, e.weights);
    }

    @Override
    public int hashCode() {
        return (31 * Arrays.hashCode(prompt) + Arrays.hashCode(response)) * 31 + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "WeightedExample[prompt=" + prompt.length + ", response=" + response.length + ", trainable=" + trainableTokens() + "]";
    }
}
