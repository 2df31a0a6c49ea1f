package dev.linchpin.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code --nproc N}: starts the N ranks of a data-parallel job on this host, as torchrun
 * {@code --nproc-per-node N} does: N child JVMs of the same command line (same JVM options and
 * classpath, {@code --nproc} replaced by 1) with {@code RANK}, {@code LOCAL_RANK}, {@code WORLD_SIZE},
 * {@code MASTER_ADDR=127.0.0.1} and a free {@code MASTER_PORT} in their environment. Every line a rank
 * prints is forwarded prefixed with {@code [rank r]}. The job fails when any rank fails; the others
 * then stop by themselves (their collectives fail), and any still running after a grace period are killed.
 */
final class LocalRanks {
    /** How long the other ranks get to stop by themselves after one failed, beyond the collectives' timeout. */
    private static final long GRACE_MILLIS = 30_000;

    private LocalRanks() {}

    /**
     * Runs the job; returns 0 when every rank succeeded, else the first failed rank's exit status.
     *
     * @param args          the full command line ({@code train ...}) as given
     * @param nproc         ranks to start (at least 2)
     * @param timeoutMillis the collectives' timeout the ranks use
     */
    static int run(List<String> args, int nproc, long timeoutMillis, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        String port = Integer.toString(freePort());
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) command.add(option);   // a debugger port binds once
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(withoutNproc(args));
        command.addAll(List.of("--nproc", "1"));   // also over a --config file's nproc: each child is one rank

        List<Process> ranks = new ArrayList<>();
        List<Thread> pumps = new ArrayList<>();
        try {
            for (int r = 0; r < nproc; r++) {
                ProcessBuilder pb = new ProcessBuilder(command);
                Map<String, String> env = pb.environment();
                env.put(TrainCommand.RANK, Integer.toString(r));
                env.put(TrainCommand.LOCAL_RANK, Integer.toString(r));
                env.put(TrainCommand.WORLD_SIZE, Integer.toString(nproc));
                env.put(TrainCommand.MASTER_ADDR, "127.0.0.1");
                env.put(TrainCommand.MASTER_PORT, port);
                env.putIfAbsent("OPENBLAS_NUM_THREADS", "1");
                Process p = pb.start();
                ranks.add(p);
                pumps.add(pump(p.getInputStream(), "[rank " + r + "] ", out));
                pumps.add(pump(p.getErrorStream(), "[rank " + r + "] ", err));
            }
            int status = awaitAll(ranks, timeoutMillis + GRACE_MILLIS, err);
            for (Thread t : pumps) t.join(5_000);
            return status;
        } finally {
            for (Process p : ranks) if (p.isAlive()) p.destroyForcibly();
        }
    }

    /** Waits for every rank; after the first failure the others get {@code graceMillis} to end before they are killed. */
    private static int awaitAll(List<Process> ranks, long graceMillis, PrintWriter err) throws InterruptedException {
        int status = 0;
        long killAt = Long.MAX_VALUE;
        boolean[] reported = new boolean[ranks.size()];
        while (true) {
            boolean running = false;
            for (int r = 0; r < ranks.size(); r++) {
                Process p = ranks.get(r);
                if (p.isAlive()) {
                    running = true;
                } else if (!reported[r]) {
                    reported[r] = true;
                    if (p.exitValue() != 0) {
                        synchronized (err) {
                            err.println("linchpin train: rank " + r + " of " + ranks.size() + " failed (exit status " + p.exitValue() + ")");
                        }
                        if (status == 0) {
                            status = p.exitValue();
                            killAt = System.currentTimeMillis() + graceMillis;
                        }
                    }
                }
            }
            if (!running) return status;
            if (System.currentTimeMillis() > killAt) {
                for (Process p : ranks) if (p.isAlive()) p.destroyForcibly();
                for (Process p : ranks) p.waitFor(10, TimeUnit.SECONDS);
                return status;
            }
            Thread.sleep(50);
        }
    }

    /** Forwards a child's stream line by line, each prefixed (one writer shared by every rank: whole lines). */
    private static Thread pump(InputStream in, String prefix, PrintWriter to) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (to) {
                        to.println(prefix + line);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, prefix.strip());
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The command line with {@code --nproc N} / {@code --nproc=N} removed. */
    static List<String> withoutNproc(List<String> args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--nproc")) {
                i++;
                continue;
            }
            if (a.startsWith("--nproc=")) continue;
            out.add(a);
        }
        return out;
    }

    /** A port nobody listens on now (the ranks bind it a moment later; another process could take it in between). */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
