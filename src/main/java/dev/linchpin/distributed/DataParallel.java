package dev.linchpin.distributed;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One process's membership in a data-parallel job on libtorch's c10d: rank 0 hosts a TCPStore at
 * {@code MASTER_ADDR:MASTER_PORT}, every rank joins a ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL
 * (CUDA tensors, where libtorch's build has it) through it, and the collectives a trainer needs run here:
 * sums of a few counts, bucketed sums of gradients, checks that every rank holds the same value.
 *
 * <p>Failure: every collective waits at most the {@link Rendezvous#timeout()} (Gloo's own timeout; a
 * peer whose process died usually fails it at once, its TCP connection closed), and any failure becomes
 * a {@link DistributedException} naming this rank, the collective and the transport's reason. After one,
 * the group is unusable: the caller stops.
 *
 * <p>Timing: {@link #communicationNanos()} adds up the wall time spent inside collectives (waiting for
 * slower ranks included), so a trainer can report the all-reduce share of a step.
 */
public final class DataParallel implements AutoCloseable {
    /** Gradients are summed in buckets of at most this many bytes (one tensor larger than that is its own bucket). */
    public static final long BUCKET_BYTES = 25L << 20;
    /**
     * Joining waits at least this long for the other ranks (processes start and load at different times),
     * and longer when the timeout is longer.
     */
    public static final long JOIN_MILLIS = 5 * 60_000L;
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1");

    private final Rendezvous rendezvous;
    private final TCPStore store;
    private final Backend backend;
    private final Device commDevice;
    private final String backendName;
    private long communicationNanos;

    private DataParallel(Rendezvous rendezvous, TCPStore store, Backend backend, Device commDevice, String backendName) {
        this.rendezvous = rendezvous;
        this.store = store;
        this.backend = backend;
        this.commDevice = commDevice;
        this.backendName = backendName;
    }

    /**
     * Joins the job: rank 0 starts the store, the others connect to it, and all wait until every rank is
     * there (at most the larger of the timeout and {@link #JOIN_MILLIS}). Tensors on {@code device} are summed: Gloo for the CPU, NCCL for CUDA.
     *
     * @throws IllegalArgumentException for CUDA when this libtorch has no ProcessGroupNCCL
     * @throws DistributedException     when the other ranks do not all arrive within the timeout
     */
    public static DataParallel join(Rendezvous r, Device device) {
        Loader.load(torch.class);
        boolean cuda = device.is_cuda();
        Supplier<String> where = () -> r.who() + " (store " + r.masterAddr() + ":" + r.masterPort() + ")";
        TCPStore store;
        try {
            TCPStoreOptions options = new TCPStoreOptions();   // numWorkers stays unset: its accessor returns null
            options.port((short) r.masterPort());              // an unsigned 16-bit port: the cast keeps its bits
            options.isServer(r.rank() == 0);
            options.timeout(join(r));
            store = new TCPStore(r.masterAddr(), options);
        } catch (RuntimeException e) {
            throw new DistributedException(where.get() + ": could not " + (r.rank() == 0 ? "start" : "reach")
                    + " the rendezvous store within " + join(r).count() / 1000 + " s: " + reason(e), e);
        }
        try {
            if (cuda) {
                Backend nccl = Nccl.create(store, r, millis(r));
                return new DataParallel(r, store, nccl, new Device(torch.DeviceType.CUDA, (byte) r.localRank()), "nccl");
            }
            ProcessGroupGloo.Options options = ProcessGroupGloo.Options.create(join(r));
            options.devices().push_back(LOOPBACK.contains(r.masterAddr()) ? ProcessGroupGloo.createDeviceForHostname("127.0.0.1")
                    : ProcessGroupGloo.createDefaultDevice());
            ProcessGroupGloo gloo = new ProcessGroupGloo(store, r.rank(), r.worldSize(), options);
            gloo.setTimeout(millis(r));   // connected: from now on every collective waits at most the timeout
            return new DataParallel(r, store, gloo, new Device("cpu"), "gloo");
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DistributedException(where.get() + ": the " + (cuda ? "NCCL" : "Gloo") + " process group did not form within "
                    + join(r).count() / 1000 + " s (did every rank start, with the same WORLD_SIZE?): " + reason(e), e);
        }
    }

    public int rank() {
        return rendezvous.rank();
    }

    public int worldSize() {
        return rendezvous.worldSize();
    }

    /** The rendezvous this group was formed by. */
    public Rendezvous rendezvous() {
        return rendezvous;
    }

    /** "gloo" or "nccl". */
    public String backendName() {
        return backendName;
    }

    /** Wall time spent in collectives so far, in nanoseconds. */
    public long communicationNanos() {
        return communicationNanos;
    }

    /** Sums each of {@code values} over all ranks (exactly: int64). */
    public long[] sum(String what, long... values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensor.create(values).to(commDevice, ScalarType.Long);
            allReduce(what, t, null);
            long[] out = new long[values.length];
            t.to(new Device("cpu"), ScalarType.Long).contiguous().data_ptr_long().get(out);
            return out;
        }
    }

    /** Sums each of {@code values} over all ranks, in float64 (a NaN anywhere makes the sum NaN everywhere). */
    public double[] sum(String what, double... values) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensor.create(values).to(commDevice, ScalarType.Double);
            allReduce(what, t, null);
            double[] out = new double[values.length];
            t.to(new Device("cpu"), ScalarType.Double).contiguous().data_ptr_double().get(out);
            return out;
        }
    }

    /**
     * Checks that every rank holds the same {@code value} (compared exactly, as float64), and fails on
     * every rank otherwise: the ranks' data, checkpoints or weights have drifted apart.
     *
     * @throws DistributedException naming {@code what} and the smallest and largest value held
     */
    public void requireSame(String what, double value) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = Tensor.create(new double[] {value, -value}).to(commDevice, ScalarType.Double);
            AllreduceOptions max = new AllreduceOptions();
            max.reduceOp(new ReduceOp(ReduceOp.RedOpType.MAX));
            allReduce("agreement on " + what, t, max);
            double[] out = new double[2];
            t.to(new Device("cpu"), ScalarType.Double).contiguous().data_ptr_double().get(out);
            double hi = out[0], lo = -out[1];
            if (Double.doubleToLongBits(hi) != Double.doubleToLongBits(lo)) {
                throw new DistributedException(rendezvous.who() + ": the ranks disagree on " + what + ": this rank has " + value
                        + ", the ranks hold values from " + lo + " to " + hi);
            }
        }
    }

    /**
     * Waits until every rank gets here, for at most {@code timeoutMillis} (longer than the group's timeout
     * when rank 0 has slow work to finish first, such as writing a checkpoint).
     */
    public void awaitAll(String what, long timeoutMillis) {
        try (PointerScope scope = new PointerScope()) {
            AllreduceOptions options = new AllreduceOptions();
            options.timeout(new Milliseconds(timeoutMillis));
            allReduce(what, torch.zeros(1).to(commDevice, ScalarType.Float), options);
        }
    }

    /**
     * Replaces each defined {@code .grad} of {@code params} by its sum over all ranks. Gradients are
     * flattened into buckets of at most {@link #BUCKET_BYTES}, every bucket's all-reduce is started before
     * the first is awaited (so the transport works on one while the next is packed), then the sums are
     * copied back. Tensors without a gradient are left alone (the caller makes sure that every rank has
     * gradients for the same tensors).
     */
    public void sumGradients(String what, List<Tensor> params) {
        sumGradients(what, params, BUCKET_BYTES);
    }

    /** {@link #sumGradients(String, List)} with buckets of at most {@code bucketBytes} (tests use small ones). */
    void sumGradients(String what, List<Tensor> params, long bucketBytes) {
        List<List<Tensor>> buckets = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long bytes = 0;
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (!g.defined()) continue;
            long b = g.nbytes();
            if (!current.isEmpty() && bytes + b > bucketBytes) {
                buckets.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(g);
            bytes += b;
        }
        if (!current.isEmpty()) buckets.add(current);
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
            List<Tensor> flats = new ArrayList<>();
            List<Work> works = new ArrayList<>();
            try {
                for (List<Tensor> bucket : buckets) {
                    Tensor flat = torch.flatten_dense_tensors(new TensorVector(bucket.toArray(new Tensor[0])));
                    flats.add(flat);
                    works.add(backend.allreduce(new TensorVector(flat)));
                }
                for (Work w : works) w._wait();
            } catch (RuntimeException e) {
                throw failure(what, e);
            }
            for (int i = 0; i < buckets.size(); i++) {
                TensorVector grads = new TensorVector(buckets.get(i).toArray(new Tensor[0]));
                TensorVector sums = torch.unflatten_dense_tensors(flats.get(i), grads);
                for (int j = 0; j < buckets.get(i).size(); j++) buckets.get(i).get(j).copy_(sums.get(j));
            }
        } finally {
            communicationNanos += System.nanoTime() - t0;
        }
    }

    private void allReduce(String what, Tensor t, AllreduceOptions optionsOrNull) {
        long t0 = System.nanoTime();
        try {
            Work w = optionsOrNull == null ? backend.allreduce(new TensorVector(t)) : backend.allreduce(new TensorVector(t), optionsOrNull);
            w._wait();
        } catch (RuntimeException e) {
            throw failure(what, e);
        } finally {
            communicationNanos += System.nanoTime() - t0;
        }
    }

    private DistributedException failure(String what, RuntimeException e) {
        return new DistributedException(rendezvous.who() + ": " + what + " failed: " + reason(e) + " (another rank died, or did not answer within "
                + rendezvous.timeout().toSeconds() + " s; every rank stops; see the other ranks' output)", e);
    }

    /** The transport's message without the source path c10d prefixes to it. */
    static String reason(RuntimeException e) {
        String m = String.valueOf(e.getMessage()).strip();
        if (m.startsWith("[") && m.indexOf("] ") > 0 && m.indexOf("] ") < 300) m = m.substring(m.indexOf("] ") + 2);
        int newline = m.indexOf('\n');
        return newline > 0 ? m.substring(0, newline) : m;
    }

    private static Milliseconds join(Rendezvous r) {
        return new Milliseconds(Math.max(JOIN_MILLIS, r.timeout().toMillis()));
    }

    private static Milliseconds millis(Rendezvous r) {
        return new Milliseconds(r.timeout().toMillis());
    }

    /** Leaves the group and destroys it (the store's server goes with rank 0's process). */
    @Override
    public void close() {
        try {
            backend.shutdown();
        } catch (RuntimeException ignored) {
            // A group whose peer died may refuse an orderly shutdown; the process is ending anyway.
        }
        // Destroying the group closes its connections: a peer blocked in a collective fails at once rather than at its
        // timeout. A dead process does that by exiting; a rank that is a thread of a living one (ThreadRanks) must.
        backend.close();
    }

    /** ProcessGroupNCCL, in its own class so that a libtorch without it fails only when CUDA is asked for. */
    private static final class Nccl {
        static Backend create(TCPStore store, Rendezvous r, Milliseconds timeout) {
            try {
                Loader.load(org.bytedeco.pytorch.global.torch_nccl.class);
            } catch (Throwable t) {
                throw new IllegalArgumentException("data-parallel training on CUDA needs c10d's ProcessGroupNCCL, and this libtorch build "
                        + "has no native NCCL library (jnitorch_nccl, shipped by the bytedeco pytorch preset's GPU build only): " + t
                        + "; build with -Pgpu on a machine with NCCL, or train on --device cpu (Gloo)");
            }
            org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options options = org.bytedeco.pytorch.nccl.ProcessGroupNCCL.Options.create();
            options.timeout(timeout);   // NCCL connects lazily, at the first collective, within this timeout
            return new org.bytedeco.pytorch.nccl.ProcessGroupNCCL(store, r.rank(), r.worldSize(), options);
        }
    }
}
