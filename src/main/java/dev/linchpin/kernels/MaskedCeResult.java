package dev.linchpin.kernels;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What one fused masked linear-CE call produced. The gradients are already computed (the kernel does
 * forward and backward in one pass); {@link #backward()} hands them to libtorch's autograd, which
 * carries dh on into whatever produced h (the model) and accumulates dW into W.grad. This stands in
 * for a custom autograd Function, which the bytedeco preset cannot define (javacpp-presets#1706).
 */
public final class MaskedCeResult {
    private final Tensor loss;
    private final Tensor h, weight;
    private final Tensor dh, dW;
    private final boolean dWOwnedByCaller;
    private final Tensor logProbs, entropy;
    private final long activeRows;
    private boolean consumed;

    MaskedCeResult(Tensor loss, Tensor h, Tensor weight, Tensor dh, Tensor dW, boolean dWOwnedByCaller,
                   Tensor logProbs, Tensor entropy, long activeRows) {
        this.loss = loss;
        this.h = h;
        this.weight = weight;
        this.dh = dh;
        this.dW = dW;
        this.dWOwnedByCaller = dWOwnedByCaller;
        this.logProbs = logProbs;
        this.entropy = entropy;
        this.activeRows = activeRows;
    }

    /** The loss, a detached fp32 scalar on the inputs' device. */
    public Tensor loss() {
        return loss;
    }

    /** The loss as a double (synchronises on CUDA). */
    public double lossValue() {
        return loss.item_double();
    }

    /** dL/dh, fp32 [N, D] (zero rows where w = 0), or null if not computed. */
    public Tensor inputGrad() {
        return dh;
    }

    /** dL/dW, fp32 [V, D] (the caller's buffer if one was given), or null if not computed. */
    public Tensor weightGrad() {
        return dW;
    }

    /** log p(y_i), fp32 [N] (0 where w = 0), or null if not asked for. */
    public Tensor logProbs() {
        return logProbs;
    }

    /** Entropy of the predicted distribution per row, fp32 [N] (0 where w = 0), or null if not asked for. */
    public Tensor entropy() {
        return entropy;
    }

    /** Rows with nonzero weight, i.e. rows that entered the GEMMs (-1 if not counted, on CUDA). */
    public long activeRows() {
        return activeRows;
    }

    /** Same as {@code backward(1.0)}. */
    public void backward() {
        backward(1.0);
    }

    /**
     * Feeds {@code scale·dh} into h and {@code scale·dW} into W through {@code torch::autograd::backward},
     * as {@code (scale·loss).backward()} would. Only the gradients that were computed are fed; a caller
     * supplied dW buffer is left to the caller. At most once per result (the graph behind h is freed).
     */
    public void backward(double scale) {
        if (consumed) throw new IllegalStateException("backward() was already called on this result");
        consumed = true;
        List<Tensor> roots = new ArrayList<>(2), grads = new ArrayList<>(2);
        try (PointerScope scope = new PointerScope()) {
            if (dh != null && h.requires_grad()) {
                roots.add(h);
                grads.add(scaledAs(dh, h, scale));
            }
            if (dW != null && !dWOwnedByCaller && weight.requires_grad()) {
                roots.add(weight);
                grads.add(scaledAs(dW, weight, scale));
            }
            if (roots.isEmpty()) return;
            torch.backward(new TensorVector(roots.toArray(new Tensor[0])),
                    new TensorVector(grads.toArray(new Tensor[0])), new BoolOptional(), false, new TensorVector());
        }
    }

    private static Tensor scaledAs(Tensor grad, Tensor like, double scale) {
        Tensor g = scale == 1.0 ? grad : grad.mul(new Scalar(scale));
        ScalarType target = TensorChecks.type(like);
        return TensorChecks.type(g) == target ? g : g.to(target);
    }
}
