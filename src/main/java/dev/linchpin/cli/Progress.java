package dev.linchpin.cli;

import dev.linchpin.progress.Durations;
import dev.linchpin.progress.ProgressListener;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How the command line shows a job's progress ({@link ProgressListener}). On a terminal a single line is
 * redrawn in place (bar, count, rate, ETA, a status text); elsewhere (CI logs, pipes) a plain line is
 * printed at most once per interval, plus the first and last update, so logs stay short but show the job
 * is alive.
 *
 * <p>Create one with {@link #auto()} (terminal if {@code System.console() != null}, writing to stderr),
 * {@link #silent()}, {@link ProgressOption} (a command's {@code --progress}), or the full constructor
 * (tests). Each phase of a job is a {@link Task}.
 */
public final class Progress implements ProgressListener {
    private static final int BAR_WIDTH = 28;

    private final PrintWriter out;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private final long logIntervalNanos;

    /**
     * @param outOrNull        where to write; null writes nothing
     * @param terminal         redraw one line with {@code \r} instead of printing log lines
     * @param nanoClock        monotonic time in nanoseconds (System::nanoTime)
     * @param logIntervalNanos minimum time between two plain log lines
     */
    public Progress(PrintStream outOrNull, boolean terminal, LongSupplier nanoClock, long logIntervalNanos) {
        this(outOrNull == null ? null
                : new PrintWriter(new OutputStreamWriter(outOrNull, StandardCharsets.UTF_8), true),
                terminal, nanoClock, logIntervalNanos);
    }

    /** As above, writing to a {@link PrintWriter} (a job's log). */
    public Progress(PrintWriter outOrNull, boolean terminal, LongSupplier nanoClock, long logIntervalNanos) {
        this.out = outOrNull;
        this.terminal = terminal;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.logIntervalNanos = logIntervalNanos;
    }

    /** A bar on stderr when attached to a terminal, else a log line every 10 s on stderr. */
    public static Progress auto() {
        return new Progress(System.err, System.console() != null, System::nanoTime, 10_000_000_000L);
    }

    /** Reports nothing. */
    public static Progress silent() {
        return new Progress((PrintWriter) null, false, System::nanoTime, Long.MAX_VALUE);
    }

    /** Prints a one-off message line (ignored when silent). */
    @Override
    public void message(String text) {
        if (out != null) {
            out.println(text);
            out.flush();
        }
    }

    /** Starts a phase of {@code total} units (≥ 1). */
    @Override
    public Task start(String label, long total) {
        if (total < 1) throw new IllegalArgumentException("total must be >= 1, got " + total);
        return new Task(label, total);
    }

    /** One phase: call {@link #update} as units complete, then {@link #finish}. */
    public final class Task implements ProgressListener.Task {
        private final String label;
        private final long total;
        private final long startNanos;
        private long lastLogNanos = Long.MIN_VALUE;
        private boolean finished;

        private Task(String label, long total) {
            this.label = label;
            this.total = total;
            this.startNanos = nanoClock.getAsLong();
        }

        /** {@code done} of {@code total} units are complete; {@code status} (may be empty) is shown after the counts. */
        @Override
        public void update(long done, String status) {
            if (out == null || finished) return;
            long now = nanoClock.getAsLong();
            String line = line(label, done, total, now - startNanos, status);
            if (terminal) {
                out.print("\r" + line + "\u001b[K");  // clear what a longer previous line left
                out.flush();
            } else if (done >= total || lastLogNanos == Long.MIN_VALUE || now - lastLogNanos >= logIntervalNanos) {
                lastLogNanos = now;
                out.println(line);
                out.flush();
            }
        }

        /** Ends the phase with a summary line. */
        @Override
        public void finish(String summary) {
            if (finished) return;
            finished = true;
            if (out == null) return;
            double seconds = (nanoClock.getAsLong() - startNanos) / 1e9;
            out.print(terminal ? "\r\u001b[K" : "");
            out.println(label + ": " + summary + " (" + Durations.format(seconds) + ")");
            out.flush();
        }
    }

    /**
     * One progress line: {@code label [#####.....] done/total pct rate ETA status}. The rate and ETA
     * extrapolate the average so far; before the first unit there is no estimate ("ETA ?").
     */
    public static String line(String label, long done, long total, long elapsedNanos, String status) {
        double fraction = Math.max(0, Math.min(1, (double) done / total));
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        StringBuilder b = new StringBuilder(label).append(" [");
        for (int i = 0; i < BAR_WIDTH; i++) b.append(i < filled ? '#' : '.');
        b.append("] ").append(done).append('/').append(total)
                .append(String.format(Locale.ROOT, " %3d%%", (int) Math.floor(fraction * 100)));
        double seconds = elapsedNanos / 1e9;
        if (done > 0 && seconds > 0) {
            double rate = done / seconds;
            b.append(String.format(Locale.ROOT, " %.2f/s", rate));
            b.append(" ETA ").append(Durations.format(Math.max(0, total - done) / rate));
        } else {
            b.append(" ETA ?");
        }
        if (status != null && !status.isEmpty()) b.append(' ').append(status);
        return b.toString();
    }
}
