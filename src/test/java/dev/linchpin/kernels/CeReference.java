package dev.linchpin.kernels;

import static dev.linchpin.testing.TorchTesting.s;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The float64 libtorch reference: linear → log_softmax → weighted NLL, differentiated by libtorch's
 * autograd. Only rows with w ≠ 0 enter it, so NaN planted in masked rows cannot leak into the
 * reference either (autograd would otherwise turn 0·NaN into NaN gradients).
 */
final class CeReference {
    final double loss;
    final Tensor dh, dW, logp, entropy;

    CeReference(Tensor h, Tensor W, Tensor y, Tensor w, double denom) {
        long N = h.size(0), D = h.size(1), V = W.size(0);
        Tensor active = w.ne(s(0.0)).nonzero().squeeze(1);
        Tensor ha = h.index_select(0, active).to(ScalarType.Double).detach().requires_grad_(true);
        Tensor Wd = W.to(ScalarType.Double).detach().requires_grad_(true);
        Tensor ya = y.index_select(0, active);
        Tensor wa = w.index_select(0, active).to(ScalarType.Double);
        Tensor lsm = torch.log_softmax(torch.matmul(ha, Wd.t()), 1);
        Tensor logpA = lsm.gather(1, ya.unsqueeze(1), false).squeeze(1);
        Tensor entA = lsm.exp().mul(lsm).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).neg();
        Tensor lossT = wa.mul(logpA).sum().neg().div(s(denom));
        loss = lossT.item_double();
        dh = torch.zeros(new long[] {N, D}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
        logp = torch.zeros(new long[] {N}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
        entropy = torch.zeros(new long[] {N}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
        if (active.numel() > 0) {
            torch.backward(new TensorVector(lossT), new TensorVector(), new BoolOptional(), false, new TensorVector());
            dh.index_copy_(0, active, ha.grad());
            dW = Wd.grad();
            logp.index_copy_(0, active, logpA.detach());
            entropy.index_copy_(0, active, entA.detach());
        } else {
            dW = torch.zeros(new long[] {V, D}, new org.bytedeco.pytorch.TensorOptions(ScalarType.Double));
        }
    }
}
