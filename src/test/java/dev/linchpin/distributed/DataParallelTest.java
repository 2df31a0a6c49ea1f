package dev.linchpin.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.linchpin.testing.TorchTesting;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

/**
 * {@link DataParallel} with two ranks on 127.0.0.1 (two threads of this JVM, each its own Gloo group
 * member): exact sums, bucketed gradient sums against the sum of the two ranks' tensors computed here,
 * the agreement check, and the clear error where libtorch has no NCCL.
 */
class DataParallelTest {
    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs {@code body} as ranks 0 and 1 of a fresh group; returns each rank's result (or its exception). */
    private static <T> List<Object> twoRanks(Function<DataParallel, T> body) throws Exception {
        TorchTesting.seed("data parallel");
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                futures.add(pool.submit(() -> {
                    try (DataParallel dp = DataParallel.join(new Rendezvous(r, 2, "127.0.0.1", port, r, Duration.ofSeconds(20)), new Device("cpu"))) {
                        return body.apply(dp);
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : futures) out.add(f.get(120, TimeUnit.SECONDS));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sumsCountsExactlyAndFloatsInDoublePrecision() throws Exception {
        List<Object> r = twoRanks(dp -> {
            long big = (1L << 53) + 1;   // not representable in float64: the int64 path must keep it
            long[] counts = dp.sum("counts", big + dp.rank(), 3 * dp.rank(), -5);
            double[] floats = dp.sum("floats", 0.1 * (dp.rank() + 1), dp.rank() == 1 ? Double.NaN : 1);
            return new Object[] {counts, floats};
        });
        for (Object o : r) {
            Object[] a = (Object[]) o;
            assertArrayEquals(new long[] {2 * ((1L << 53) + 1) + 1, 3, -10}, (long[]) a[0]);
            double[] f = (double[]) a[1];
            assertEquals(0.1 + 0.2, f[0], 0);
            assertTrue(Double.isNaN(f[1]), "a NaN on one rank is a NaN on every rank");
        }
    }

    @Test
    void gradientsAreSummedAcrossBucketBoundaries() throws Exception {
        long[][] shapes = {{3, 5}, {7}, {2, 2, 2}, {40}, {1}, {6, 3}};
        List<Object> r = twoRanks(dp -> {
            List<Tensor> params = new ArrayList<>();
            for (int i = 0; i < shapes.length; i++) {
                Tensor p = torch.zeros(shapes[i]).set_requires_grad(true);
                if (i != 4) {   // tensor 4 has no gradient (on every rank): left alone
                    Tensor g = grad(i, dp.rank(), shapes[i]);
                    p.mul(g).sum().backward();
                }
                params.add(p);
            }
            dp.sumGradients("test gradients", params, 64);   // 64 bytes: buckets of 1 to 4 tensors, one tensor larger than a bucket
            List<Tensor> grads = new ArrayList<>();
            for (Tensor p : params) grads.add(p.grad().defined() ? p.grad().clone() : null);
            return grads;
        });
        for (Object o : r) {
            @SuppressWarnings("unchecked")
            List<Tensor> grads = (List<Tensor>) o;
            for (int i = 0; i < shapes.length; i++) {
                if (i == 4) {
                    assertEquals(null, grads.get(i));
                    continue;
                }
                Tensor expected = grad(i, 0, shapes[i]).add(grad(i, 1, shapes[i]));
                assertTrue(torch.equal(expected, grads.get(i)), "tensor " + i + ": the sum of both ranks' gradients");
            }
        }
    }

    /** Rank r's gradient for tensor i: distinct, exactly representable values. */
    private static Tensor grad(int i, int rank, long[] shape) {
        return torch.arange(new org.bytedeco.pytorch.Scalar(numel(shape))).to(ScalarType.Float)
                .mul(new org.bytedeco.pytorch.Scalar(rank + 1.0)).add(new org.bytedeco.pytorch.Scalar(100.0 * i)).view(shape);
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Test
    void ranksThatDisagreeBothStopWithTheRange() throws Exception {
        List<Object> r = twoRanks(dp -> {
            dp.requireSame("the same value", 7.5);
            dp.requireSame("the step", dp.rank() == 0 ? 3 : 4);
            return "no error";
        });
        for (int rank = 0; rank < 2; rank++) {
            DistributedException e = assertInstanceOf(r.get(rank));
            assertTrue(e.getMessage().contains("rank " + rank + " of 2: the ranks disagree on the step"), e.getMessage());
            assertTrue(e.getMessage().contains("from 3.0 to 4.0"), e.getMessage());
        }
    }

    private static DistributedException assertInstanceOf(Object o) {
        assertTrue(o instanceof DistributedException, "expected a DistributedException, got " + o);
        return (DistributedException) o;
    }

    @Test
    void cudaWithoutNcclNamesWhatIsMissing() throws Exception {
        boolean nccl;
        try {
            Loader.load(org.bytedeco.pytorch.global.torch_nccl.class);
            nccl = true;
        } catch (Throwable t) {
            nccl = false;
        }
        assumeFalse(nccl, "this libtorch has NCCL: the GPU kit runs data-parallel CUDA training");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataParallel.join(
                new Rendezvous(0, 2, "127.0.0.1", freePort(), 0, Duration.ofSeconds(5)), new Device("cuda:0")));
        assertTrue(e.getMessage().contains("ProcessGroupNCCL") && e.getMessage().contains("jnitorch_nccl") && e.getMessage().contains("-Pgpu"),
                e.getMessage());
    }

    @Test
    void theTransportsSourcePathIsDropped() {
        assertEquals("Connection closed by peer [127.0.0.1]:13738. This is typically caused by a remote worker crashing.",
                DataParallel.reason(new RuntimeException("[/home/runner/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] "
                        + "Connection closed by peer [127.0.0.1]:13738. This is typically caused by a remote worker crashing.\nmore")));
        assertFalse(DataParallel.reason(new RuntimeException("plain")).isEmpty());
    }
}
