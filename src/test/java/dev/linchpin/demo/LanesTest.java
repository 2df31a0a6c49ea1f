package dev.linchpin.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.progress.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Lanes}: two jobs at a time, whole result blocks, named progress, and a failure that loses no finished job. */
class LanesTest {
    /** Collects progress lines. */
    private static final class Lines implements ProgressListener {
        final List<String> lines = new ArrayList<>();

        @Override
        public synchronized void message(String text) {
            lines.add(text);
        }

        @Override
        public Task start(String label, long total) {
            return new Task() {
                @Override
                public void update(long done, String status) {
                    message(label + " " + done + "/" + total);
                }

                @Override
                public void finish(String summary) {
                    message(label + ": " + summary);
                }
            };
        }
    }

    @Test
    void twoJobsRunSideBySideAndTheirResultBlocksStayWhole() throws Exception {
        StringWriter text = new StringWriter();
        Lines progress = new Lines();
        Lanes lanes = new Lanes(2, progress, new PrintWriter(text));
        CountDownLatch bothStarted = new CountDownLatch(2);
        List<Lanes.Job> jobs = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            jobs.add(new Lanes.Job(name, (p, o) -> {
                if (!name.equals("c")) {
                    bothStarted.countDown();
                    // a and b hold each other up: this passes only when they run at the same time
                    try {
                        assertTrue(bothStarted.await(30, TimeUnit.SECONDS), "the other lane's job never started");
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                }
                ProgressListener.Task t = p.start("work", 2);
                for (int i = 0; i < 50; i++) {
                    o.println(name + " line " + i);
                    Thread.yield();
                }
                t.update(2, "");
                t.finish("done");
            }));
        }
        lanes.run(jobs);
        String[] lines = text.toString().split("\n");
        assertEquals(150, lines.length);
        for (int block = 0; block < 3; block++) {
            String name = lines[block * 50].substring(0, 1);
            for (int i = 0; i < 50; i++) assertEquals(name + " line " + i, lines[block * 50 + i], "a job's lines are printed as one block");
        }
        assertTrue(progress.lines.contains("a: work: done") && progress.lines.contains("b: work 2/2") && progress.lines.contains("c: work: done"),
                progress.lines.toString());
    }

    @Test
    void aFailureStartsNoNewJobButTheRunningOneFinishes() {
        AtomicInteger finished = new AtomicInteger();
        CountDownLatch failing = new CountDownLatch(1), slowStarted = new CountDownLatch(1);
        List<Lanes.Job> jobs = new ArrayList<>();
        jobs.add(new Lanes.Job("fails", (p, o) -> {
            try {
                assertTrue(slowStarted.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            failing.countDown();
            throw new IOException("bad item");
        }));
        jobs.add(new Lanes.Job("slow", (p, o) -> {
            slowStarted.countDown();
            try {
                assertTrue(failing.await(30, TimeUnit.SECONDS));
                Thread.sleep(200);   // still running when the other lane fails
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            finished.incrementAndGet();
        }));
        for (int i = 0; i < 5; i++) jobs.add(new Lanes.Job("later" + i, (p, o) -> finished.addAndGet(100)));
        IOException e = assertThrows(IOException.class, () -> new Lanes(2, new Lines(), new PrintWriter(new StringWriter())).run(jobs));
        assertEquals("bad item", e.getMessage());
        assertEquals(1, finished.get(), "the running job finished and no job started after the failure");
    }

    @Test
    void oneLaneRunsInTheCallersThreadInOrder() throws IOException {
        List<String> order = new ArrayList<>();
        Thread caller = Thread.currentThread();
        List<Lanes.Job> jobs = new ArrayList<>();
        for (String name : List.of("x", "y", "z")) {
            jobs.add(new Lanes.Job(name, (p, o) -> {
                assertEquals(caller, Thread.currentThread());
                order.add(name);
            }));
        }
        new Lanes(1, new Lines(), new PrintWriter(new StringWriter())).run(jobs);
        assertEquals(List.of("x", "y", "z"), order);
        assertEquals(1, Lanes.forThreads(1));
        assertEquals(2, Lanes.forThreads(2));
        assertEquals(2, Lanes.forThreads(16));
    }
}
