package dev.linchpin.model;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Rotary position embedding with transformers' conventions: inverse frequencies
 * {@code 1 / θ^(2i/d)} in float32 (optionally rescaled Llama-3.1 style), angles
 * {@code position × inv_freq} in float32, {@code cos/sin} of {@code cat(freqs, freqs)}, and the
 * "rotate_half" pairing (element i with element i + d/2).
 */
public final class RotaryEmbedding {
    private final Tensor invFreq;   // [headDim / 2] float32 on the model's device

    RotaryEmbedding(int headDim, RopeParameters rope, Device device) {
        try (PointerScope scope = new PointerScope()) {
            this.invFreq = Scopes.keep(inverseFrequencies(headDim, rope).to(device, ScalarType.Float));
        }
    }

    /**
     * The inverse-frequency table as a float32 CPU tensor: {@link RopeParameters#inverseFrequencies}, the
     * one table the rollout engine uses too, so both implementations rotate by the same angles.
     */
    public static Tensor inverseFrequencies(int headDim, RopeParameters rope) {
        float[] table = rope.inverseFrequencies(headDim);
        return Scopes.run(() -> Tensor.create(table));
    }

    /**
     * cos and sin tables for the given positions.
     *
     * @param positions [B, T] int64 on the model's device
     * @return {cos, sin}, each [B, T, headDim] float32
     */
    Tensor[] cosSin(Tensor positions) {
        Tensor freqs = positions.to(ScalarType.Float).unsqueeze(-1).mul(invFreq);      // [B,T,d/2]
        Tensor emb = torch.cat(new TensorVector(freqs, freqs), -1);   // [B,T,d]
        return new Tensor[] {emb.cos(), emb.sin()};
    }

    /**
     * Applies the rotation to x [B, H, T, d]. cos/sin are [B, T, d] float32. With
     * {@code inFloat32} (OLMo-2) the product is formed in float32 and cast back; otherwise cos/sin
     * are first cast to x's dtype (Llama, Qwen).
     */
    static Tensor apply(Tensor x, Tensor cos, Tensor sin, boolean inFloat32) {
        ScalarType type = x.scalar_type().intern();
        Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);
        if (!inFloat32) {
            c = c.to(type);
            s = s.to(type);
        }
        long half = x.size(-1) / 2;
        Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        Tensor rotated = torch.cat(new TensorVector(x2.neg(), x1), -1);
        return x.mul(c).add(rotated.mul(s)).to(type);
    }
}
