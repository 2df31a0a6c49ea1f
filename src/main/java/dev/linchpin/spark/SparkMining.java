package dev.linchpin.spark;

import dev.linchpin.UserError;
import dev.linchpin.options.EngineOptions;
import dev.linchpin.options.MiningFlags;
import dev.linchpin.options.PromptOptions;
import dev.linchpin.progress.ProgressListener;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-submit --class dev.linchpin.spark.SparkMining linchpin.jar ...}: {@code linchpin mine} on a
 * Spark cluster. It takes {@code mine}'s options through the same option groups ({@link dev.linchpin.options}),
 * except {@code --shard i/n}, which becomes {@code --shards n} (all of them, one task each),
 * and {@code --config}/{@code --progress}, which a cluster job has no use for. This is its own picocli
 * command rather than a {@code linchpin} subcommand: the launcher's classpath has no Spark, and nothing
 * outside this package may need Spark's classes.
 */
@Command(name = "spark-mine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mine critical-token masks on Apache Spark: one task per shard, then the shards merged into the masks file "
                + "and summary that `linchpin mine` writes for the whole data set.",
                "Rerun the same command to resume: finished shards are kept, interrupted ones resume from their last checkpoint."})
public final class SparkMining implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory: a local path, the same on the driver and every executor.")
    String model;
    @Option(names = "--data", required = true, paramLabel = "URI", description = "JSONL data set: a path or a URI of any Hadoop file system (hdfs://, s3a://).")
    String data;
    @Option(names = "--out", required = true, paramLabel = "URI",
            description = "Merged masks file (path or URI); summary in URI.summary.json, shard files in URI.shards/.")
    String out;
    @Option(names = "--shards", defaultValue = "0", paramLabel = "N",
            description = "Shards = tasks; example at data position p goes to shard p mod N; 0: Spark's default parallelism (default: ${DEFAULT-VALUE}).")
    int shards;
    @Option(names = "--checkpoint-seconds", defaultValue = "60", paramLabel = "S",
            description = "A task publishes its shard's progress at most every S seconds, for retries to resume from (default: ${DEFAULT-VALUE}).")
    long checkpointSeconds;
    // mine's options: the same option groups as mine (SparkMiningOptionsTest checks the whole list)
    @Mixin
    PromptOptions prompts;
    @Mixin
    MiningFlags mining;
    @Mixin
    EngineOptions engine;

    private JavaSparkContext context;
    private SparkMiningJob.Result result;

    /** spark-submit's entry point: runs on the application's Spark context and exits with {@link #run}'s status. */
    public static void main(String[] args) {
        System.exit(run(args, null, System.out, System.err));
    }

    /**
     * Runs the command line on {@code context} (null: the application's, made from spark-submit's
     * configuration after the options parsed, and stopped at the end). Exit status as {@code linchpin}'s:
     * 0 done, 1 a user error (the root cause printed, also from inside a failed task), 2 a usage error,
     * 3 a bug (stack trace).
     */
    public static int run(String[] args, JavaSparkContext context, PrintStream out, PrintStream err) {
        SparkMining command = new SparkMining();
        command.context = context;
        CommandLine cl = new CommandLine(command);
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            String cause = rootCause(ex);
            if (cause != null) {
                line.getErr().println("spark-mine: error: " + cause);
                return 1;
            }
            ex.printStackTrace(line.getErr());
            return 3;
        });
        return cl.execute(args);
    }

    /** The result of the last run (for tests and embedding); null before. */
    SparkMiningJob.Result result() {
        return result;
    }

    @Override
    public Integer call() throws Exception {
        JavaSparkContext sc = context != null ? context : startSpark();
        try {
            SparkMiningJob.Settings settings = settings(sc.defaultParallelism());
            PrintWriter err = spec.commandLine().getErr();
            result = SparkMiningJob.run(sc, settings, new ProgressListener() {
                @Override
                public void message(String text) {
                    err.println(text);
                }

                @Override
                public Task start(String label, long total) {
                    return ProgressListener.silent().start(label, total);
                }
            });
            spec.commandLine().getOut().println("wrote " + out + " (" + result.summary().examples() + " records) and " + out + ".summary.json");
            return 0;
        } finally {
            if (context == null) sc.stop();
        }
    }

    /** The application's context from spark-submit's configuration; a configuration Spark refuses is the user's error. */
    private static JavaSparkContext startSpark() {
        try {
            return new JavaSparkContext(new SparkConf().setAppName("linchpin spark-mine"));
        } catch (Exception e) {   // Scala throws SparkException (checked in Java) without declaring it
            if (e instanceof SparkException) {
                throw new IllegalArgumentException("cannot start Spark (run through spark-submit, or set spark.master): " + e.getMessage(), e);
            }
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e);
        }
    }

    /** The job these options describe, with {@code --shards 0} meaning {@code defaultShards}. */
    SparkMiningJob.Settings settings(int defaultShards) {
        long kvBudgetBytes = engine.kvBudgetBytes();
        if (shards < 0) throw new IllegalArgumentException("--shards must be >= 0, got " + shards);
        return new SparkMiningJob.Settings(model, data, out, prompts.format(), prompts.style(), prompts.template(), prompts.systemPrompt(),
                shards == 0 ? Math.max(1, defaultShards) : shards, mining.options(), kvBudgetBytes, engine.threads(), engine.device(),
                checkpointSeconds);
    }

    /**
     * The message for the user when {@code ex} is a user error ({@link UserError#isUserError}), also one
     * that failed a task: Spark reports that as a {@link SparkException} whose message quotes the task's
     * exception ("most recent failure: Lost task ...: the exception"), since the exception itself may
     * not survive serialisation. Null for anything else (a bug).
     */
    static String rootCause(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (!(t instanceof SparkException) && UserError.isUserError(t)) return t.getMessage();
            if (t instanceof SparkException && t.getMessage() != null) {
                String m = t.getMessage();
                int at = m.indexOf("most recent failure: ");
                if (at >= 0) {
                    String failure = m.substring(at).lines().findFirst().orElse("");
                    String userError = taskUserError(failure);
                    if (userError != null) return userError;
                }
            }
        }
        return null;
    }

    /** From "Lost task 1.1 in stage 0.0 (TID 3) (host executor 1): some.Exception: message", the message when the
     *  exception is a user error class this program knows. */
    private static String taskUserError(String failure) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\): ([\\w.$]+)(?:: (.*))?$").matcher(failure);
        if (!m.find()) return null;
        try {
            Class<?> type = Class.forName(m.group(1), false, SparkMining.class.getClassLoader());
            boolean user = UserError.class.isAssignableFrom(type) || IllegalArgumentException.class.isAssignableFrom(type)
                    || java.io.IOException.class.isAssignableFrom(type) || java.io.UncheckedIOException.class.isAssignableFrom(type);
            return user ? (m.group(2) == null ? m.group(1) : m.group(2)) : null;
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }
}
