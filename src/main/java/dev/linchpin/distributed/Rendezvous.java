package dev.linchpin.distributed;

import java.time.Duration;
import java.util.Objects;

/**
 * Where the processes of one data-parallel job meet, as torchrun describes it: this process's
 * {@code rank} of {@code worldSize}, the host and port of rank 0's TCPStore ({@code MASTER_ADDR},
 * {@code MASTER_PORT}), the rank on this host ({@code LOCAL_RANK}, which GPU a CUDA rank takes), and how
 * long any rendezvous or collective may wait for the other ranks before it fails.
 *
 * @param rank       0 ≤ rank &lt; worldSize; rank 0 hosts the store and writes every file
 * @param worldSize  processes in the job (at least 2: one process needs no rendezvous)
 * @param masterAddr host of rank 0
 * @param masterPort TCP port of rank 0's store
 * @param localRank  rank among the processes of this host
 * @param timeout    the longest any rank waits for the others (rendezvous, each all-reduce)
 */
public record Rendezvous(int rank, int worldSize, String masterAddr, int masterPort, int localRank, Duration timeout) {
    public Rendezvous {
        if (worldSize < 2) throw new IllegalArgumentException("a data-parallel job has at least 2 processes, got WORLD_SIZE=" + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("RANK must be in [0, " + worldSize + "), got " + rank);
        if (localRank < 0) throw new IllegalArgumentException("LOCAL_RANK must be >= 0, got " + localRank);
        Objects.requireNonNull(masterAddr, "masterAddr");
        if (masterAddr.isBlank()) throw new IllegalArgumentException("MASTER_ADDR is empty");
        if (masterPort < 1 || masterPort > 65535) throw new IllegalArgumentException("MASTER_PORT must be in [1, 65535], got " + masterPort);
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("the data-parallel timeout must be positive, got " + timeout);
    }

    /** "rank r of n". */
    String who() {
        return "rank " + rank + " of " + worldSize;
    }
}
