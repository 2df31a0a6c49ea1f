package dev.linchpin.progress;

import java.util.Locale;

/** Durations as people read them in progress lines and logs. */
public final class Durations {
    private Durations() {}

    /** {@code 59s}, {@code 1m05s}, {@code 1h02m} (rounded to the second). */
    public static String format(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
