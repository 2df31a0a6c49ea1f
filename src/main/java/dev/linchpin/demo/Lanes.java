package dev.linchpin.demo;

import dev.linchpin.progress.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Runs the demo's independent jobs (one model's training and evaluation, one learning-rate candidate) a
 * few at a time, each on its own thread with its share of the threads. On the small models of the demo a
 * training gains almost nothing from a second libtorch thread (its GEMMs are too small to split), while
 * two trainings side by side, one thread each, finish close to 1.4x sooner: that is how the demo uses a
 * second core.
 *
 * <p>Jobs start in list order, the next one as soon as a lane is free. A job's result lines ({@code out})
 * are held back and printed whole when it ends, so two evaluation tables never interleave; its progress
 * lines are prefixed with the job's name. When a job fails no new job starts, the running ones finish
 * (their stages are recorded, so a resumed run skips them), and the first failure is thrown, the others
 * suppressed under it. With one lane every job runs in the calling thread, with {@code out} and the
 * progress listener as they are.
 */
final class Lanes {
    /** One job: what it does, given where its lines go. */
    @FunctionalInterface
    interface Body {
        void run(ProgressListener progress, PrintWriter out) throws IOException;
    }

    /** A named job. */
    record Job(String name, Body body) {
        Job {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(body, "body");
        }
    }

    private final int lanes;
    private final ProgressListener progress;
    private final PrintWriter out;
    /** Serialises the lanes' lines and the job bookkeeping. */
    private final Object lock = new Object();

    /**
     * @param lanes    jobs at once (≥ 1)
     * @param progress where progress goes (shared by the lanes; every call is serialised)
     * @param out      where results go
     */
    Lanes(int lanes, ProgressListener progress, PrintWriter out) {
        if (lanes < 1) throw new IllegalArgumentException("lanes must be >= 1, got " + lanes);
        this.lanes = lanes;
        this.progress = Objects.requireNonNull(progress, "progress");
        this.out = Objects.requireNonNull(out, "out");
    }

    int lanes() {
        return lanes;
    }

    /** The shared listener, one call at a time across the lanes: for lines of the caller's own, such as stage lines. */
    ProgressListener progress() {
        return new Prefixed(progress, "", lock);
    }

    /** The lanes for {@code threads} threads: two of half the threads each from two threads on, else one. */
    static int forThreads(int threads) {
        return threads >= 2 ? 2 : 1;
    }

    /** Runs every job (see the class comment); returns when all have ended. */
    void run(List<Job> jobs) throws IOException {
        if (lanes == 1 || jobs.size() <= 1) {
            for (Job j : jobs) j.body().run(progress, out);
            return;
        }
        int[] next = {0};
        List<Throwable> failures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int lane = 0; lane < Math.min(lanes, jobs.size()); lane++) {
            Thread t = new Thread(() -> {
                while (true) {
                    Job job;
                    synchronized (lock) {
                        if (!failures.isEmpty() || next[0] == jobs.size()) return;
                        job = jobs.get(next[0]++);
                    }
                    StringWriter held = new StringWriter();
                    PrintWriter jobOut = new PrintWriter(held);
                    try {
                        job.body().run(new Prefixed(progress, job.name() + ": ", lock), jobOut);
                    } catch (Throwable e) {
                        synchronized (lock) {
                            failures.add(e);
                        }
                    } finally {
                        jobOut.flush();
                        synchronized (lock) {
                            out.print(held);
                            out.flush();
                        }
                    }
                }
            }, "demo-lane-" + lane);
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
                    interrupted = true;   // a job cannot be stopped half-way safely; wait for the running ones
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failures.isEmpty()) return;
        Throwable first = failures.get(0);
        for (Throwable f : failures.subList(1, failures.size())) first.addSuppressed(f);
        if (first instanceof IOException e) throw e;
        if (first instanceof RuntimeException e) throw e;
        if (first instanceof Error e) throw e;
        throw new IllegalStateException(first);
    }

    /** A job's view of the shared listener: its name before every line, one call at a time across the lanes. */
    private record Prefixed(ProgressListener inner, String prefix, Object lock) implements ProgressListener {
        @Override
        public void message(String text) {
            synchronized (lock) {
                inner.message(prefix + text);
            }
        }

        @Override
        public Task start(String label, long total) {
            Task task;
            synchronized (lock) {
                task = inner.start(prefix + label, total);
            }
            return new Task() {
                @Override
                public void update(long done, String status) {
                    synchronized (lock) {
                        task.update(done, status);
                    }
                }

                @Override
                public void finish(String summary) {
                    synchronized (lock) {
                        task.finish(summary);
                    }
                }
            };
        }
    }
}
