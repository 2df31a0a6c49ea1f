package dev.linchpin.distributed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Device;

/**
 * A data-parallel job whose ranks are threads of this process, meeting over loopback (Gloo): for work one
 * libtorch thread cannot spread over the cores. On the small models this project trains on CPUs, a second
 * intra-op thread speeds a training up by only a few percent (its GEMMs are too small to split), while
 * two ranks of one thread each train close to 1.4x faster; threads save the processes' start-up and keep
 * the job inside one call.
 *
 * <p>Every rank runs the same body with its own {@link DataParallel}; the body must give each rank its own
 * model replica (equal weights) and set libtorch's intra-op threads as it wants them (one thread per rank
 * uses one core per rank). The result of rank 0 is returned. When a rank fails, it leaves the group at
 * once, which makes the other ranks' next collective fail instead of waiting out the timeout; the call
 * returns only after every rank has stopped and rethrows the failure of the lowest failed rank that is
 * not merely the consequence of another's (a {@link DistributedException}), with the others suppressed.
 */
public final class ThreadRanks {
    /** What each rank runs. */
    @FunctionalInterface
    public interface Body<T> {
        T run(DataParallel dp) throws IOException;
    }

    private ThreadRanks() {}

    /**
     * Runs {@code body} as ranks 0..worldSize-1 of a fresh CPU group on a free loopback port.
     *
     * @param worldSize ranks (≥ 2)
     * @param timeout   the longest any rank waits for the others in the rendezvous or a collective
     * @param label     names the threads ({@code label-rank-N}) in stack dumps and errors
     * @return rank 0's result
     */
    public static <T> T run(int worldSize, Duration timeout, String label, Body<T> body) throws IOException {
        Objects.requireNonNull(body, "body");
        if (worldSize < 2) throw new IllegalArgumentException("a data-parallel job has at least 2 ranks, got " + worldSize);
        int port = freePort();
        List<Object> results = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < worldSize; r++) results.add(null);
        for (int r = 0; r < worldSize; r++) {
            int rank = r;
            Thread t = new Thread(() -> {
                Object result;
                try (DataParallel dp = DataParallel.join(new Rendezvous(rank, worldSize, "127.0.0.1", port, rank, timeout), new Device("cpu"))) {
                    result = body.run(dp);
                } catch (Throwable e) {   // closing the group above already told the other ranks
                    result = new Failure(e);
                }
                synchronized (results) {
                    results.set(rank, result);
                }
            }, label + "-rank-" + rank);
            threads.add(t);
            t.start();
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;   // the ranks stop on their own (a collective fails within the timeout); wait for them
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable first = null;
        synchronized (results) {
            // The cause, not its echo: a rank that failed on its own comes before one whose collective failed because of it.
            for (int pass = 0; pass < 2 && first == null; pass++) {
                for (Object o : results) {
                    if (o instanceof Failure f && (pass == 1 || !(f.error() instanceof DistributedException))) {
                        first = f.error();
                        break;
                    }
                }
            }
            for (Object o : results) if (o instanceof Failure f && f.error() != first) first.addSuppressed(f.error());
            if (first == null) {
                @SuppressWarnings("unchecked")
                T rank0 = (T) results.get(0);
                return rank0;
            }
        }
        if (first instanceof IOException e) throw e;
        if (first instanceof RuntimeException e) throw e;
        if (first instanceof Error e) throw e;
        throw new IllegalStateException(first);
    }

    private record Failure(Throwable error) {}

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port for the ranks' rendezvous", e);
        }
    }
}
