package dev.linchpin.spark;

import dev.linchpin.data.DatasetException;
import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.engine.EngineDevice;
import dev.linchpin.mine.MiningFingerprint;
import dev.linchpin.mine.MiningOptions;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.progress.ProgressListener;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Mining on Apache Spark: the data set's shards are the partitions of one Spark stage, each task
 * mines its shard with {@link MiningRun} (one engine per task), and the driver merges the shards'
 * masks files into exactly what {@code linchpin mine} writes for the whole data set. The rules
 * (layout, retries, what is byte-identical) are in the package comment.
 */
public final class SparkMiningJob {
    /** The local property ({@code SparkContext.setLocalProperty}) that makes the first attempt of one
     *  shard's task fail after its first checkpoint: the fault the retry tests inject. */
    public static final String FAIL_FIRST_ATTEMPT_OF_SHARD = "linchpin.test.failFirstAttemptOfShard";

    private SparkMiningJob() {}

    /**
     * Everything the job needs: {@code linchpin mine}'s settings with URIs for the data and the output,
     * the number of shards instead of one shard, and how often a task publishes its progress.
     *
     * @param model             Hugging Face model directory: a local path, the same on the driver and every executor
     * @param data              JSONL data set: a path or URI of any Hadoop file system
     * @param out               the merged masks file (path or URI); shards go to {@code <out>.shards/}
     * @param shards            number of shards = tasks (example at data position p goes to shard p mod shards)
     * @param checkpointSeconds a task publishes its shard's file at most this often (0: after every batch)
     */
    public record Settings(String model, String data, String out, DatasetFormat format, PromptEncoder.Style promptStyle,
            String promptTemplate, String systemPrompt, int shards, MiningOptions options, long kvBudgetBytes, int threads,
            EngineDevice device, long checkpointSeconds) implements Serializable {
        public Settings {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(promptStyle, "promptStyle");
            Objects.requireNonNull(options, "options");
            Objects.requireNonNull(device, "device");
            if (shards < 1) throw new IllegalArgumentException("--shards must be >= 1, got " + shards);
            if (checkpointSeconds < 0) throw new IllegalArgumentException("--checkpoint-seconds must be >= 0, got " + checkpointSeconds);
        }

        /** The same settings with other locations. */
        Settings at(String model, String data, String out) {
            return new Settings(model, data, out, format, promptStyle, promptTemplate, systemPrompt, shards, options, kvBudgetBytes,
                    threads, device, checkpointSeconds);
        }

        /** The single-process run of one shard, on local files. */
        MiningRun.Settings forShard(java.nio.file.Path localData, java.nio.file.Path localOut, Shard shard) {
            return new MiningRun.Settings(java.nio.file.Path.of(model), localData, localOut, format, promptStyle, promptTemplate,
                    systemPrompt, shard, options, kvBudgetBytes, threads, device);
        }
    }

    /** What one shard's successful task did. */
    public record ShardReport(int shard, int attempt, long resumedRecords, long records, int checkpoints) implements Serializable {}

    /** The merged summary and the tasks' reports (in shard order). */
    public record Result(MiningSummary summary, List<ShardReport> shards) {}

    /**
     * Runs the job on {@code sc}: checks the data and the settings on the driver (nothing starts when
     * either is wrong), mines the shards, then merges.
     */
    public static Result run(JavaSparkContext sc, Settings s, ProgressListener progress) throws IOException {
        MiningSummary merged = new MiningSummary();   // its clock times the whole job
        HadoopFiles files = new HadoopFiles(sc.hadoopConfiguration());
        Path out = qualified(files, s.out());
        Path shardsDir = qualified(files, s.out() + ".shards");
        java.nio.file.Path scratch = Files.createTempDirectory("linchpin-spark-driver-");
        try {
            java.nio.file.Path data = files.localCopy(new Path(s.data()), scratch);
            long total = checkData(s, data);
            java.nio.file.Path model = java.nio.file.Path.of(s.model());
            if (!Files.isDirectory(model)) {
                throw new IOException(model + ": model directory not found (it must be at this path on the driver and every executor)");
            }
            Map<String, String> fingerprint = MiningFingerprint.of(s.forShard(data, scratch.resolve("masks.jsonl"), Shard.ALL));
            checkOrRecordSettings(files, s, out, shardsDir, fingerprint);
            progress.message("spark-mine: " + total + " examples in " + s.shards() + " shards; shard files in " + shardsDir);

            // executors resolve relative paths against their own working directories: send absolute ones
            Settings absolute = s.at(model.toAbsolutePath().toString(), qualified(files, s.data()).toString(), out.toString());
            ShardTask task = new ShardTask(absolute, files, shardsDir.toString(), total, fingerprint.get("model"));
            List<Integer> indices = IntStream.range(0, s.shards()).boxed().toList();
            List<ShardReport> reports = new ArrayList<>(sc.parallelize(indices, s.shards()).mapPartitionsWithIndex(task, false).collect());
            reports.sort(Comparator.comparingInt(ShardReport::shard));
            for (ShardReport r : reports) {
                if (r.attempt() > 0 || r.resumedRecords() > 0) {
                    progress.message("spark-mine: shard " + r.shard() + " finished in attempt " + r.attempt() + ", resuming from "
                            + r.resumedRecords() + " records");
                }
            }

            files.writeString(qualified(files, s.out() + ".options.json"), MiningFingerprint.toJson(fingerprint));
            ShardMerge.merge(files, s, data, shardsDir, total, out, merged);
            files.writeString(qualified(files, s.out() + ".summary.json"), merged.toJsonText());
            progress.message(String.format(java.util.Locale.ROOT,
                    "spark-mine: wrote %s: %d examples (kept %d, dropped %d, failed %d), %d of %d positions critical (%.2f%%); "
                            + "%.1f examples/min over the job",
                    out, merged.examples(), merged.kept(), merged.dropped(), merged.failed(), merged.critical(), merged.positions(),
                    100 * merged.criticalFraction(), merged.examplesPerMinute()));
            return new Result(merged, List.copyOf(reports));
        } finally {
            deleteTree(scratch);
        }
    }

    /** {@link MiningRun#checkData} on the driver, naming the data set as the user gave it (not its local copy). */
    private static long checkData(Settings s, java.nio.file.Path data) throws IOException {
        try {
            return MiningRun.checkData(data, s.format(), Shard.ALL);
        } catch (DatasetException e) {
            if (data.toString().equals(s.data())) throw e;
            throw new IOException(e.getMessage().replace(data.toString(), s.data()), e);
        }
    }

    /**
     * Refuses other settings than an earlier run on the same output (the merged file's options, and the
     * shard directory's, which add the number of shards), naming each difference; records them otherwise.
     */
    private static void checkOrRecordSettings(HadoopFiles files, Settings s, Path out, Path shardsDir, Map<String, String> fingerprint)
            throws IOException {
        Path mergedOptions = qualified(files, s.out() + ".options.json");
        if (files.fs(out).exists(out) && files.fs(mergedOptions).exists(mergedOptions)) {
            refuseDifferences(s.out(), mergedOptions, MiningFingerprint.parse(files.readString(mergedOptions), mergedOptions.toString()),
                    fingerprint);
        }
        Map<String, String> job = new TreeMap<>(fingerprint);
        job.put("spark_shards", String.valueOf(s.shards()));
        Path jobOptions = new Path(shardsDir, "options.json");
        if (files.fs(jobOptions).exists(jobOptions)) {
            refuseDifferences(shardsDir.toString(), jobOptions, MiningFingerprint.parse(files.readString(jobOptions), jobOptions.toString()), job);
        } else {
            files.fs(shardsDir).mkdirs(shardsDir);
            files.writeString(jobOptions, MiningFingerprint.toJson(job));
        }
    }

    private static void refuseDifferences(String what, Path optionsFile, Map<String, String> before, Map<String, String> now)
            throws IOException {
        List<String> diffs = MiningFingerprint.differences(before, now);
        if (!diffs.isEmpty()) {
            throw new IOException(what + " was mined with other settings (" + optionsFile.getName() + "): " + String.join("; ", diffs)
                    + ". Rerun with the same settings, or mine into a new --out.");
        }
    }

    /** {@code path} with its file system and, when relative, the working directory made explicit. */
    static Path qualified(HadoopFiles files, String path) throws IOException {
        Path p = new Path(path);
        return files.fs(p).makeQualified(p);
    }

    /** Examples of shard {@code j} of {@code n} among {@code total}: the positions p < total with p mod n = j. */
    static long shardSize(long total, int j, int n) {
        return total <= j ? 0 : (total - j + n - 1) / n;
    }

    static void deleteTree(java.nio.file.Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<java.nio.file.Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover temporary directory is harmless
        }
    }
}
