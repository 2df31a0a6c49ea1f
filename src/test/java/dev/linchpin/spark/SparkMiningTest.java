package dev.linchpin.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.data.DatasetException;
import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.mine.MiningFixture;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.progress.ProgressListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The Spark job in local mode ({@code local[2,2]}: two task slots, a failed task retried once) on the
 * mining fixture's tiny model, against the reference that {@link MiningRun} — the job behind
 * {@code linchpin mine} — writes for the whole data set in one process.
 */
class SparkMiningTest {
    static final int EXAMPLES = 11;   // 3 shards of 4, 4 and 3 examples: uneven on purpose
    static final int BATCH = 2;

    @TempDir
    static Path scratch;
    static Path model, data, reference;
    static JavaSparkContext sc;

    @BeforeAll
    static void referenceAndSpark() throws IOException {
        model = MiningFixture.modelDir(scratch);
        data = scratch.resolve("data.jsonl");
        MiningFixture.writeData(data, EXAMPLES, model);
        reference = scratch.resolve("reference/masks.jsonl");
        MiningRun.run(new MiningRun.Settings(model, data, reference, DatasetFormat.AUTO, PromptEncoder.Style.AUTO, null, null, Shard.ALL,
                MiningFixture.options(BATCH), 64L << 20, 1), ProgressListener.silent());
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2,2]").setAppName("SparkMiningTest")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1"));
    }

    @AfterAll
    static void stopSpark() {
        if (sc != null) sc.stop();
    }

    /** spark-mine's arguments for the fixture, as {@code MiningFixture.mineArgs} gives them to {@code mine}. */
    static List<String> args(Path out, int shards, String... more) {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--data", data.toString(), "--out", out.toString(),
                "--shards", String.valueOf(shards), "--checkpoint-seconds", "0",
                "--max-new-tokens", String.valueOf(MiningFixture.MAX_NEW), "--branch-margin", "8", "--batch-size", String.valueOf(BATCH),
                "--max-branches", "16", "--threads", "1", "--kv-budget-mb", "64"));
        a.addAll(List.of(more));
        return a;
    }

    record Run(int status, String out, String err) {}

    static Run sparkMine(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = SparkMining.run(args.toArray(String[]::new), sc, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static SparkMiningJob.Settings settings(List<String> args) {
        SparkMining command = new SparkMining();
        new CommandLine(command).parseArgs(args.toArray(String[]::new));
        return command.settings(2);
    }

    /** The summary's text with the three timing values (seconds and the two rates) blanked. */
    static String withoutTiming(Path summary) throws IOException {
        return Files.readString(summary).replaceAll("(\"(?:seconds|examples_per_minute|branch_tokens_per_second)\" : )[-0-9.Ee]+", "$1T");
    }

    static void assertSameAsSingleProcess(Path out) throws IOException {
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(out), "merged masks == single-process masks, byte for byte");
        assertEquals(Files.readString(Path.of(reference + ".options.json")), Files.readString(Path.of(out + ".options.json")),
                "same options fingerprint file");
        assertEquals(withoutTiming(MiningSummary.pathFor(reference)), withoutTiming(MiningSummary.pathFor(out)),
                "summary equal but for this_run's seconds and rates");
    }

    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    void mergedOutputIsTheSingleProcessOutput() throws IOException {
        Path out = scratch.resolve("plain/masks.jsonl");
        Run run = sparkMine(args(out, 3));
        assertEquals(0, run.status(), run.err());
        assertSameAsSingleProcess(out);
        // the reference really holds kept and dropped records, and the summary its work
        String masks = Files.readString(reference);
        assertTrue(masks.contains("\"kept\":true") && masks.contains("\"kept\":false"), masks);
        assertTrue(Files.readString(MiningSummary.pathFor(reference)).matches("(?s).*\"branch_tokens\" : [1-9].*"));

        // each shard's finished file holds its examples (positions j mod 3) in data order; partials are gone
        List<String> lines = Files.readAllLines(reference);
        for (int j = 0; j < 3; j++) {
            Path dir = Path.of(out + ".shards", String.format("shard-%05d-of-00003", j));
            List<Path> masksFiles = files(dir).stream().filter(p -> p.getFileName().toString().startsWith("records-")).toList();
            assertEquals(1, masksFiles.size(), masksFiles.toString());
            List<String> expected = new ArrayList<>();
            for (int p = j; p < EXAMPLES; p += 3) expected.add(lines.get(p));
            assertEquals(expected, Files.readAllLines(masksFiles.get(0)));
            assertTrue(Files.exists(dir.resolve("options.json")));
        }
        assertTrue(files(out.getParent()).stream().noneMatch(p -> p.getFileName().toString().endsWith(".crc")
                || p.getFileName().toString().startsWith(".tmp-")), files(out.getParent()).toString());

        // a rerun finds every shard finished, mines nothing and writes the same bytes again
        Run again = sparkMine(args(out, 3));
        assertEquals(0, again.status(), again.err());
        assertSameAsSingleProcess(out);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedFromItsCheckpointAndTheResultIsTheSame() throws IOException {
        Path out = scratch.resolve("retry/masks.jsonl");
        sc.setLocalProperty(SparkMiningJob.FAIL_FIRST_ATTEMPT_OF_SHARD, "1");
        SparkMiningJob.Result result;
        try {
            result = SparkMiningJob.run(sc, settings(args(out, 3)), ProgressListener.silent());
        } finally {
            sc.setLocalProperty(SparkMiningJob.FAIL_FIRST_ATTEMPT_OF_SHARD, null);
        }
        assertSameAsSingleProcess(out);
        SparkMiningJob.ShardReport failed = result.shards().get(1);
        assertEquals(1, failed.attempt(), "shard 1 finished in its second attempt: " + result.shards());
        assertEquals(BATCH, failed.resumedRecords(), "and resumed from the first attempt's checkpoint (one batch): " + result.shards());
        assertEquals(0, result.shards().get(0).attempt());
        assertEquals(0, result.shards().get(2).attempt());
    }

    /**
     * Two attempts of one shard at the same time (speculation), run as Spark would run them but on two
     * threads of their own, over a shard directory where an earlier attempt left a checkpoint: both
     * finish, every file they publish is a prefix of the shard's records, and the merge finds one
     * finished file per shard and writes the single-process bytes.
     */
    @Test
    void twoConcurrentAttemptsOfOneShardLeaveNoDuplicates() throws Exception {
        Path out = scratch.resolve("speculative/masks.jsonl");
        assertEquals(0, sparkMine(args(out, 3)).status());
        Path dir = Path.of(out + ".shards", "shard-00001-of-00003");
        Path finished = files(dir).stream().filter(p -> p.getFileName().toString().startsWith("records-")).findFirst().orElseThrow();
        List<String> shardLines = Files.readAllLines(finished);
        // replace the finished file with a one-batch checkpoint, as a failed attempt would have left it
        ShardCheckpoint partial = new ShardCheckpoint(BATCH, 1, 2, 3);
        Files.write(dir.resolve(partial.fileName()), shardLines.subList(0, BATCH));
        Files.delete(finished);

        SparkMiningJob.Settings s = settings(args(out, 3));
        SparkMiningJob.Settings absolute = s.at(model.toAbsolutePath().toString(), data.toUri().toString(), out.toUri().toString());
        HadoopFiles files = new HadoopFiles(sc.hadoopConfiguration());
        String identity = dev.linchpin.mine.MiningFingerprint.modelIdentity(model);
        ShardTask task = new ShardTask(absolute, files, Path.of(out + ".shards").toUri().toString(), EXAMPLES, identity);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<SparkMiningJob.ShardReport>> attempts = new ArrayList<>();
            for (int a = 0; a < 2; a++) attempts.add(pool.submit(() -> task.call(1, java.util.Collections.emptyIterator()).next()));
            for (var f : attempts) {
                SparkMiningJob.ShardReport r = f.get();
                assertEquals(shardLines.size(), r.records());
                assertEquals(BATCH, r.resumedRecords(), "both attempts resumed from the checkpoint");
            }
        } finally {
            pool.shutdownNow();
        }
        for (Path p : files(dir)) {
            if (!p.getFileName().toString().startsWith("records-")) continue;
            List<String> lines = Files.readAllLines(p);
            assertEquals(shardLines.subList(0, lines.size()), lines, p + " is a prefix of the shard's records");
        }
        ShardMerge.merge(files, absolute, data, new org.apache.hadoop.fs.Path(Path.of(out + ".shards").toUri()), EXAMPLES,
                new org.apache.hadoop.fs.Path(out.toUri()), new MiningSummary());
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(out));
    }

    @Test
    void otherSettingsOnTheSameOutputAreRefusedBeforeAnyTaskStarts() throws IOException {
        Path out = scratch.resolve("settings/masks.jsonl");
        assertEquals(0, sparkMine(args(out, 3)).status());
        byte[] before = Files.readAllBytes(out);

        Run otherK = sparkMine(args(out, 3, "--k", "3"));
        assertEquals(1, otherK.status(), otherK.err());
        assertTrue(otherK.err().contains("k: was 2, now 3"), otherK.err());

        Run otherShards = sparkMine(args(out, 4));
        assertEquals(1, otherShards.status(), otherShards.err());
        assertTrue(otherShards.err().contains("spark_shards: was 3, now 4"), otherShards.err());
        assertFalse(Files.exists(Path.of(out + ".shards", "shard-00000-of-00004")), "no task ran");
        assertArrayEquals(before, Files.readAllBytes(out));

        // an output that `linchpin mine` wrote with other settings is refused as well
        Path single = scratch.resolve("single/masks.jsonl");
        Files.createDirectories(single.getParent());
        Files.copy(reference, single);
        Files.copy(Path.of(reference + ".options.json"), Path.of(single + ".options.json"));
        Run overSingle = sparkMine(args(single, 2, "--seed", "5"));
        assertEquals(1, overSingle.status(), overSingle.err());
        assertTrue(overSingle.err().contains("seed: was 0, now 5"), overSingle.err());
        assertFalse(Files.exists(Path.of(single + ".shards")), "refused before the shard directory was made");
    }

    @Test
    void aMissingDataFileFailsTheJobNamingIt() {
        Path missing = scratch.resolve("no-such-data.jsonl");
        List<String> a = args(scratch.resolve("missing/masks.jsonl"), 2);
        a.set(a.indexOf("--data") + 1, missing.toString());
        Run run = sparkMine(a);
        assertEquals(1, run.status(), run.err());
        assertTrue(run.err().contains("spark-mine: error: " + missing + ": cannot open"), run.err());
        assertFalse(Files.exists(scratch.resolve("missing")), "nothing was written");
    }

    @Test
    void aMalformedLineFailsTheJobNamingFileAndLine() throws IOException {
        Path bad = scratch.resolve("bad.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(data));
        lines.set(2, "{\"id\": \"ex-002\", \"question\": \"no closing brace\"");
        Files.write(bad, lines);
        List<String> a = args(scratch.resolve("malformed/masks.jsonl"), 2);
        a.set(a.indexOf("--data") + 1, bad.toString());
        Run run = sparkMine(a);
        assertEquals(1, run.status(), run.err());
        assertTrue(run.err().contains("spark-mine: error: " + bad + ":3: invalid JSON"), run.err());
        assertFalse(Files.exists(scratch.resolve("malformed")), "nothing was written");
    }

    @Test
    void aUserErrorInsideATaskIsPrintedAsItsRootCause() {
        SparkException wrapped = assertThrows(SparkException.class, () -> sc.parallelize(List.of(1), 1).map(x -> {
            if (x == 1) throw new DatasetException(Path.of("/data/gsm8k.jsonl"), 7, "invalid JSON: unexpected end");
            return x;
        }).collect());
        assertEquals("/data/gsm8k.jsonl:7: invalid JSON: unexpected end", SparkMining.rootCause(wrapped), wrapped.getMessage());
        SparkException bug = assertThrows(SparkException.class, () -> sc.parallelize(List.of(1), 1).map(x -> {
            if (x == 1) throw new IllegalStateException("a bug");
            return x;
        }).collect());
        assertEquals(null, SparkMining.rootCause(bug), "a bug is not a user error: stack trace, exit 3");
        assertNotNull(bug.getMessage());
    }
}
