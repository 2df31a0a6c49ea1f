package dev.linchpin.mine;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress of a mining run: on a terminal a bar redrawn in place with rate and ETA; otherwise (logs,
 * CI) a plain line at most every {@code logEverySeconds} and at the end.
 */
public final class Progress {
    private final PrintWriter out;
    private final boolean terminal;
    private final long total;
    private final double logEverySeconds;
    private final long start = System.nanoTime();
    private double lastLog = Double.NEGATIVE_INFINITY;

    /**
     * @param total examples this run will mine
     */
    public Progress(PrintWriter out, boolean terminal, long total, double logEverySeconds) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.logEverySeconds = logEverySeconds;
    }

    /** Reports {@code done} of the total examples and the branch tokens decoded so far. */
    public void update(long done, long branchTokens, double criticalFraction) {
        double s = (System.nanoTime() - start) / 1e9;
        boolean last = done >= total;
        if (!terminal && !last && s - lastLog < logEverySeconds) return;
        lastLog = s;
        out.print(terminal ? "\r" + line(done, branchTokens, criticalFraction, s, true) + (last ? "\n" : "")
                : line(done, branchTokens, criticalFraction, s, false) + "\n");
        out.flush();
    }

    static String line(long done, long total, long branchTokens, double criticalFraction, double seconds, boolean bar) {
        double perMin = seconds > 0 ? done * 60.0 / seconds : 0;
        double tokPerS = seconds > 0 ? branchTokens / seconds : 0;
        String eta = done > 0 && done < total ? clock((total - done) * seconds / done) : done >= total ? "done" : "--:--:--";
        String head;
        if (bar) {
            int width = 24, fill = total == 0 ? width : (int) (width * Math.min(1.0, (double) done / total));
            head = "[" + "#".repeat(fill) + ".".repeat(width - fill) + "] ";
        } else {
            head = "mine: ";
        }
        return head + String.format(Locale.ROOT, "%d/%d examples, %.1f examples/min, %.0f branch tokens/s, critical %.1f%%, ETA %s",
                done, total, perMin, tokPerS, 100 * criticalFraction, eta);
    }

    private String line(long done, long branchTokens, double criticalFraction, double seconds, boolean bar) {
        return line(done, total, branchTokens, criticalFraction, seconds, bar);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
