package dev.linchpin.bench;

import dev.linchpin.kernels.MaskedCeOptions;
import dev.linchpin.kernels.MaskedLinearCrossEntropy;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The three ways of computing a masked LM-head cross-entropy, forward + backward, that the benchmark
 * and the memory probe compare on identical inputs:
 * <ul>
 *   <li>{@code fused}: Linchpin's kernel (compacts, never materialises all logits);</li>
 *   <li>{@code eager}: full logits [N, V] → cross_entropy with ignore_index on masked rows;</li>
 *   <li>{@code compact}: index_select the rows with w ≠ 0 → linear → cross_entropy.</li>
 * </ul>
 * All return the loss. As in a training loop, the gradients of h and W accumulate into buffers that
 * persist across calls (autograd's .grad for libtorch, the kernel's weightGradInto buffer for fused),
 * so "extra memory" measures what one step allocates on top of parameters and gradients.
 */
public final class MaskedCeVariants {
    public static final long IGNORE = -100;

    public final long n, d, v;
    public final Tensor h, W, y, w, yIgnore;
    public final double denom;
    private final Tensor hLeaf, wLeaf, dWBuffer;

    public MaskedCeVariants(long n, long d, long v, double density, long seed) {
        this.n = n;
        this.d = d;
        this.v = v;
        torch.manual_seed(seed);
        TensorOptions f32 = new TensorOptions(ScalarType.Float);
        h = torch.randn(new long[] {n, d}, f32);
        W = torch.randn(new long[] {v, d}, f32).mul(new Scalar(0.05));
        y = torch.randint(v, new long[] {n}, new TensorOptions(ScalarType.Long));
        // Exactly round(density · n) active rows, at random positions.
        long active = Math.round(density * n);
        Tensor order = torch.randperm(n, new TensorOptions(ScalarType.Long));
        Tensor mask = torch.zeros(new long[] {n}, f32);
        if (active > 0) mask.index_fill_(0, order.slice(0, new org.bytedeco.pytorch.LongOptional(0),
                new org.bytedeco.pytorch.LongOptional(active), 1), new Scalar(1.0));
        w = mask;
        yIgnore = torch.where(mask.ne(new Scalar(0.0)), y, torch.full(new long[] {n}, new Scalar(IGNORE),
                new TensorOptions(ScalarType.Long)));
        denom = Math.max(1, active);
        hLeaf = h.detach().requires_grad_(true);
        wLeaf = W.detach().requires_grad_(true);
        dWBuffer = torch.zeros(new long[] {v, d}, f32);
    }

    public double fused(int threads) {
        var r = MaskedLinearCrossEntropy.compute(h, W, y, w, denom,
                MaskedCeOptions.defaults().withGrads(true, true).withWeightGradInto(dWBuffer).withThreads(threads));
        return r.lossValue();
    }

    public double eager() {
        Tensor logits = torch.linear(hLeaf, wLeaf);
        Tensor loss = torch.cross_entropy_loss(logits, yIgnore, new TensorOptional(), torch.Reduction.Sum.value, IGNORE, 0.0)
                .div(new Scalar(denom));
        loss.backward();
        return loss.item_double();
    }

    public double compactFirst() {
        Tensor rows = w.ne(new Scalar(0.0)).nonzero().squeeze(1);
        Tensor logits = torch.linear(hLeaf.index_select(0, rows), wLeaf);
        Tensor loss = torch.cross_entropy_loss(logits, y.index_select(0, rows), new TensorOptional(),
                torch.Reduction.Sum.value, IGNORE, 0.0).div(new Scalar(denom));
        loss.backward();
        return loss.item_double();
    }

    public double run(String variant, int threads) {
        return switch (variant) {
            case "fused" -> fused(threads);
            case "eager" -> eager();
            case "compact" -> compactFirst();
            default -> throw new IllegalArgumentException("unknown variant " + variant + " (fused|eager|compact)");
        };
    }
}
