package dev.linchpin.kernels;

import java.lang.reflect.Method;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's current CUDA stream and device, for kernels that must run where libtorch runs.
 *
 * <p>{@code CUDAStream.stream()} returns a type from bytedeco's {@code cuda} artifact, which only the
 * {@code gpu} profile brings; reflection keeps this class compilable without it. Only reached for
 * CUDA tensors, i.e. with libtorch's GPU build loaded.
 */
final class CudaStreams {
    private CudaStreams() {}

    static Pointer current(Tensor onDevice) {
        Object stream = torch_cuda.getCurrentCUDAStream(onDevice.device().index());
        try {
            Method raw = stream.getClass().getMethod("stream");
            return (Pointer) raw.invoke(stream);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read libtorch's current CUDA stream", e);
        }
    }

    /** The kernels run on the current device; refuse tensors that live elsewhere. */
    static void requireCurrentDevice(Tensor t) {
        int current = torch_cuda.current_device();
        int index = t.device().index();
        if (index != current) {
            throw new IllegalArgumentException("tensors are on cuda:" + index + " but the current CUDA device is cuda:"
                    + current + "; make it current (torch_cuda.set_device) before the call");
        }
    }
}
