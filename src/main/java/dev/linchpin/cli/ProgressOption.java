package dev.linchpin.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** {@code --progress}, shared by every command that runs a long job (a picocli mixin). */
public final class ProgressOption {
    @Option(names = "--progress", defaultValue = "auto", description = "auto (a bar on a terminal, else log lines), bar or log (default: ${DEFAULT-VALUE}).")
    String progress;

    /** Whether to draw a bar: "bar", or "auto" with a console attached. */
    boolean terminal() {
        return switch (progress) {
            case "auto" -> System.console() != null;
            case "bar" -> true;
            case "log" -> false;
            default -> throw new IllegalArgumentException("--progress must be auto, bar or log, got '" + progress + "'");
        };
    }

    /** Progress drawn on {@code err} as the option says (log lines at most every 10 s). */
    Progress on(PrintWriter err) {
        return new Progress(err, terminal(), System::nanoTime, 10_000_000_000L);
    }
}
