package dev.linchpin.logging;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Keeps the libraries' log output off a user's terminal unless it matters: warnings and errors only, one
 * line each, on stderr; and not the one warning the build causes on purpose.
 *
 * <p>Who logs: jinjava (chat templates) and DJL (tokenizers) log through SLF4J, which without a binding
 * prints three "No SLF4J providers" lines; the project binds SLF4J to java.util.logging
 * ({@code slf4j-jdk14}, an optional dependency, so programs embedding Linchpin keep their own binding).
 * JavaCPP prints its warnings straight to stderr unless {@code org.bytedeco.javacpp.logger=slf4j}, which
 * {@link #install()} sets, so they pass through the same filter.
 *
 * <p>The deliberate one: {@code org.bytedeco:pytorch:2.13.0-1.5.14} declares
 * {@code openblas:0.3.34-1.5.14}, which Maven Central lacks, so pom.xml uses {@code 0.3.31-1.5.13}, and
 * JavaCPP warns on every start that the versions of javacpp and openblas differ. Only that exact pair is
 * dropped: any other version mismatch still shows.
 *
 * <p>Also quiet: DJL's GPU probe ({@code ai.djl.util.cuda}). DJL counts GPUs to pick a native tokenizer
 * flavour, Linchpin pins the CPU flavour (the tokenizer package's {@code DjlTokenizers}), so the count is
 * unused, and on a machine with a CUDA runtime but no GPU driver the probe warns "Failed to detect GPU
 * count" on every start.
 */
public final class QuietLogging {
    /** The warning JavaCPP logs for the deliberate openblas version (pom.xml, {@code openblas.version}). */
    static final String KNOWN_VERSION_WARNING =
            "Versions of org.bytedeco:javacpp:1.5.14 and org.bytedeco:openblas:0.3.31-1.5.13 do not match.";

    private static boolean installed;
    /** Held strongly: java.util.logging keeps loggers weakly, and a collected logger would lose its level. */
    private static final Logger DJL_GPU_PROBE = Logger.getLogger("ai.djl.util.cuda");

    private QuietLogging() {}

    /**
     * Routes JavaCPP's messages through SLF4J and gives java.util.logging's root logger one stderr handler at
     * WARNING with a one-line format and the filter above. Does nothing to java.util.logging when the user
     * configured it ({@code java.util.logging.config.file} or {@code .class} set), nor to JavaCPP's logger when
     * {@code org.bytedeco.javacpp.logger} is set. Call it before the first JavaCPP class loads (JavaCPP picks its
     * logger once). Idempotent.
     */
    public static synchronized void install() {
        if (installed) return;
        installed = true;
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
        if (System.getProperty("java.util.logging.config.file") != null || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler handler = new ConsoleHandler();   // System.err
        handler.setLevel(Level.WARNING);
        handler.setFilter(new KnownNoiseFilter());
        handler.setFormatter(new OneLine());
        root.addHandler(handler);
        root.setLevel(Level.WARNING);
        DJL_GPU_PROBE.setLevel(Level.OFF);
    }

    /** True for the records {@link #install()} drops: JavaCPP's warning about the deliberate openblas version. */
    static boolean isKnownNoise(LogRecord r) {
        return r.getLoggerName() != null && r.getLoggerName().startsWith("org.bytedeco.javacpp")
                && KNOWN_VERSION_WARNING.equals(r.getMessage());
    }

    /**
     * The filter of {@link #install()} as a class, for a {@code logging.properties} of one's own
     * ({@code java.util.logging.ConsoleHandler.filter = dev.linchpin.logging.QuietLogging$KnownNoiseFilter};
     * the test suite's does this).
     */
    public static final class KnownNoiseFilter implements java.util.logging.Filter {
        @Override
        public boolean isLoggable(LogRecord r) {
            return !isKnownNoise(r);
        }
    }

    /** "warning: message (logger)", plus the stack trace of an attached exception. */
    static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder s = new StringBuilder(r.getLevel() == Level.SEVERE ? "error" : r.getLevel().getName().toLowerCase(java.util.Locale.ROOT))
                    .append(": ").append(formatMessage(r));
            if (r.getLoggerName() != null) s.append(" (").append(r.getLoggerName()).append(')');
            s.append(System.lineSeparator());
            if (r.getThrown() != null) {
                java.io.StringWriter w = new java.io.StringWriter();
                r.getThrown().printStackTrace(new java.io.PrintWriter(w));
                s.append(w);
            }
            return s.toString();
        }
    }
}
