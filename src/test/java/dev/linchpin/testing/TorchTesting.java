package dev.linchpin.testing;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Small helpers shared by tests that use libtorch. */
public final class TorchTesting {
    private TorchTesting() {}

    static {
        Loader.load(torch.class);
        // Two cores on CI: OpenBLAS must not oversubscribe (see ARCHITECTURE.md); torch threads explicit.
        torch.set_num_threads(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
    }

    /** A fresh seed per run, printed so a failure can be replayed with -Dlinchpin.test.seed=N. */
    public static long seed(String testName) {
        String fixed = System.getProperty("linchpin.test.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println(testName + ": seed " + seed + " (replay with -Dlinchpin.test.seed=" + seed + ")");
        torch.manual_seed(seed);
        return seed;
    }

    public static Tensor randn(ScalarType type, long... shape) {
        return torch.randn(shape, new TensorOptions(type));
    }

    public static Tensor zeros(ScalarType type, long... shape) {
        return torch.zeros(shape, new TensorOptions(type));
    }

    public static Tensor empty(ScalarType type, long... shape) {
        return torch.empty(shape, new TensorOptions(type), new MemoryFormatOptional());
    }

    /** max|a − b| / max|b|: one scale for the whole tensor; NaN anywhere gives +∞ (never passes). */
    public static double relErr(Tensor actual, Tensor expected) {
        Tensor a = actual.to(ScalarType.Double), b = expected.to(ScalarType.Double);
        if (a.isnan().any().item_bool() || b.isnan().any().item_bool()) return Double.POSITIVE_INFINITY;
        double diff = a.sub(b).abs().max().item_double();
        double scale = Math.max(b.abs().max().item_double(), 1e-30);
        return diff / scale;
    }

    /** The elements of a CPU tensor as int64, in row-major order. */
    public static long[] longs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    /** The elements of a CPU tensor as float64, in row-major order. */
    public static double[] doubles(Tensor t) {
        Tensor c = t.to(ScalarType.Double).contiguous();
        double[] out = new double[(int) c.numel()];
        c.data_ptr_double().get(out);
        return out;
    }

    public static Scalar s(double v) {
        return new Scalar(v);
    }

    /**
     * Skips the calling test unless libtorch's CUDA build and a GPU are present; where CUDA is required
     * ({@link CudaTesting#required()}) it fails instead.
     */
    public static void assumeCuda() {
        boolean cuda;
        try {
            cuda = torch.cuda_is_available();
        } catch (Throwable t) {
            cuda = false;
        }
        if (!cuda) CudaTesting.libtorchCudaMissing("libtorch has no CUDA device here (CPU build or no GPU)");
    }
}
