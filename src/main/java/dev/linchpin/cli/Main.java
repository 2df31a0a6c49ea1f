package dev.linchpin.cli;

import dev.linchpin.UserError;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code linchpin} command line. Subcommands: {@code mine} (critical-token masks), {@code show}
 * (one mined example in the terminal), {@code train} (SFT / CFT / SFTKey / DFT / ablations, LoRA) and
 * {@code eval} (greedy accuracy, pass@k, entropy); {@code demo} (the whole pipeline on the embedded default),
 * {@code report} and {@code default} (train or find the embedded default model). Every subcommand that takes
 * {@code --config run.yaml} gets its option defaults from that file, command-line options overriding them
 * ({@link YamlDefaults}). Commands parse options into a job's settings, run the job with a {@link Progress}
 * listener, and print; the jobs live below ({@code MiningRun}, {@code EvalRun}, {@code TrainingRun}, ...).
 *
 * <p>Exit codes: 0 success, 1 a user error ({@link UserError#isUserError}: bad input file, bad option value;
 * one line naming the file and line where there is one), 2 a usage error, 3 an internal error (stack trace).
 */
@Command(name = "linchpin", mixinStandardHelpOptions = true, version = "linchpin 0.1.0",
        description = "Critical-token fine-tuning engine.",
        subcommands = {DemoCommand.class, MineCommand.class, ShowCommand.class, TrainCommand.class, EvalCommand.class,
                ReportCommand.class, DefaultCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Entry point: runs and exits with {@link #run}'s status. */
    public static void main(String[] args) {
        dev.linchpin.logging.QuietLogging.install();   // before any JavaCPP class loads: library output stays quiet
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.exit(status);
    }

    /** Runs the command line with the given streams; returns the exit status (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            if (isUserError(ex)) {
                line.getErr().println("linchpin " + line.getCommandName() + ": error: " + message(ex));
                return 1;
            }
            ex.printStackTrace(line.getErr());
            return 3;
        });
        try {
            YamlDefaults defaults = YamlDefaults.fromArgs(args);
            if (defaults != null) cl.setDefaultValueProvider(defaults);
        } catch (IllegalArgumentException e) {
            err.println("linchpin: error: " + e.getMessage());
            return 1;
        }
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A {@link UserError} or one of the JDK's bad-input types ({@link UserError#isUserError}): exit 1, no stack trace. */
    static boolean isUserError(Throwable ex) {
        return UserError.isUserError(ex);
    }

    private static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null ? ex.toString() : m;
    }
}
