package dev.linchpin.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.mine.MiningFingerprint;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.progress.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;

/**
 * One Spark task: mines shard {@code j} (its partition index) into a local file and publishes it to the
 * shard's directory as {@link ShardCheckpoint}s. An attempt starts from the shard's largest published
 * checkpoint, so a retried or speculative attempt resumes instead of starting over; the miner skips
 * the ids the checkpoint holds, so no record is mined twice into one file.
 */
final class ShardTask implements Function2<Integer, Iterator<Integer>, Iterator<SparkMiningJob.ShardReport>> {
    private static final long serialVersionUID = 1L;

    private final SparkMiningJob.Settings settings;
    private final HadoopFiles files;
    private final String shardsDir;
    private final long total;
    private final String modelIdentity;

    ShardTask(SparkMiningJob.Settings settings, HadoopFiles files, String shardsDir, long total, String modelIdentity) {
        this.settings = settings;
        this.files = files;
        this.shardsDir = shardsDir;
        this.total = total;
        this.modelIdentity = modelIdentity;
    }

    /** The directory of shard {@code j} of {@code n}. */
    static Path shardDir(Path shardsDir, int j, int n) {
        return new Path(shardsDir, String.format(java.util.Locale.ROOT, "shard-%05d-of-%05d", j, n));
    }

    /** The largest checkpoint published in {@code dir} (ties: the first by name), or {@link ShardCheckpoint#EMPTY}. */
    static ShardCheckpoint latest(HadoopFiles files, Path dir) throws IOException {
        FileSystem fs = files.fs(dir);
        if (!fs.exists(dir)) return ShardCheckpoint.EMPTY;
        ShardCheckpoint best = ShardCheckpoint.EMPTY;
        FileStatus[] list = fs.listStatus(dir);
        java.util.Arrays.sort(list, Comparator.comparing(st -> st.getPath().getName()));
        for (FileStatus st : list) {
            Optional<ShardCheckpoint> c = ShardCheckpoint.parse(st.getPath().getName());
            if (c.isPresent() && c.get().records() > best.records()) best = c.get();
        }
        return best;
    }

    @Override
    public Iterator<SparkMiningJob.ShardReport> call(Integer partition, Iterator<Integer> ignored) throws Exception {
        int j = partition, n = settings.shards();
        TaskContext context = TaskContext.get();
        int attempt = context == null ? 0 : context.attemptNumber();
        String fail = context == null ? null : context.getLocalProperty(SparkMiningJob.FAIL_FIRST_ATTEMPT_OF_SHARD);
        boolean injectFailure = attempt == 0 && fail != null && Integer.parseInt(fail.strip()) == j;

        long size = SparkMiningJob.shardSize(total, j, n);
        Path dir = shardDir(new Path(shardsDir), j, n);
        files.fs(dir).mkdirs(dir);
        ShardCheckpoint start = latest(files, dir);
        if (start.records() == size) {
            return List.of(new SparkMiningJob.ShardReport(j, attempt, start.records(), size, 0)).iterator();
        }
        java.nio.file.Path work = Files.createTempDirectory(localRoot(), "linchpin-shard-" + j + "-attempt-" + attempt + "-");
        try {
            Files.createDirectories(work.resolve("data"));
            java.nio.file.Path data = files.localCopy(new Path(settings.data()), work.resolve("data"));
            java.nio.file.Path model = java.nio.file.Path.of(settings.model());
            String here = MiningFingerprint.modelIdentity(model);
            if (!here.equals(modelIdentity)) {
                throw new IOException(InetAddress.getLocalHost().getHostName() + ": the model directory " + model
                        + " differs from the driver's (identity " + here + ", driver " + modelIdentity
                        + "); every executor needs the same model files");
            }
            java.nio.file.Path masks = work.resolve("masks.jsonl");
            if (start.records() > 0) files.download(new Path(dir, start.fileName()), masks);
            Path options = new Path(dir, "options.json");
            if (files.fs(options).exists(options)) files.download(options, MiningFingerprint.pathFor(masks));

            Checkpoints checkpoints = new Checkpoints(j, n, dir, masks, start, injectFailure);
            MiningSummary summary = MiningRun.run(settings.forShard(data, masks, new Shard(j, n)), checkpoints);
            ShardCheckpoint end = start.plus(summary.examples(), summary.generatedTokens(), summary.branches(), summary.branchTokens());
            if (end.records() != size) {
                throw new IllegalStateException("shard " + j + "/" + n + " holds " + end.records() + " records after mining, expected " + size);
            }
            checkpoints.publish(end);
            return List.of(new SparkMiningJob.ShardReport(j, attempt, start.records(), size, checkpoints.published)).iterator();
        } finally {
            SparkMiningJob.deleteTree(work);
        }
    }

    /** The executor's scratch space for this application (cleaned by Spark at the end), else the temp dir. */
    private static java.nio.file.Path localRoot() {
        try {
            return java.nio.file.Path.of(SparkFiles.getRootDirectory());
        } catch (RuntimeException e) {
            return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
        }
    }

    /**
     * The miner's progress listener inside a task: after a batch is appended and its summary written
     * (the moment {@code update} is called), publishes the local file as a checkpoint when due, and
     * passes messages to the executor's log (stderr) with the shard named.
     */
    private final class Checkpoints implements ProgressListener, ProgressListener.Task {
        private final int j, n;
        private final Path dir;
        private final java.nio.file.Path masks;
        private final ShardCheckpoint start;
        private final boolean injectFailure;
        private long lastNanos = System.nanoTime();
        int published;

        Checkpoints(int j, int n, Path dir, java.nio.file.Path masks, ShardCheckpoint start, boolean injectFailure) {
            this.j = j;
            this.n = n;
            this.dir = dir;
            this.masks = masks;
            this.start = start;
            this.injectFailure = injectFailure;
        }

        @Override
        public void message(String text) {
            System.err.println("linchpin shard " + j + "/" + n + ": " + text);
        }

        @Override
        public Task start(String label, long total) {
            return this;
        }

        @Override
        public void update(long done, String status) {
            if (System.nanoTime() - lastNanos < settings.checkpointSeconds() * 1_000_000_000L) return;
            try {
                JsonNode summary = new ObjectMapper().readTree(MiningSummary.pathFor(masks).toFile());
                JsonNode run = summary.path("this_run");
                publish(start.plus(summary.path("examples").asLong(), run.path("generated_tokens").asLong(),
                        run.path("branches").asLong(), run.path("branch_tokens").asLong()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            lastNanos = System.nanoTime();
            if (injectFailure) {
                throw new IllegalStateException("injected failure of shard " + j + "'s first attempt after its first checkpoint ("
                        + SparkMiningJob.FAIL_FIRST_ATTEMPT_OF_SHARD + ")");
            }
        }

        @Override
        public void finish(String summary) {}

        private void publishOptionsOnce() throws IOException {
            Path options = new Path(dir, "options.json");
            java.nio.file.Path local = MiningFingerprint.pathFor(masks);
            if (Files.exists(local)) files.publishIfAbsent(local, options);
        }

        void publish(ShardCheckpoint c) throws IOException {
            publishOptionsOnce();
            if (c.records() <= start.records()) return;   // nothing new since the attempt began
            files.publishIfAbsent(masks, new Path(dir, c.fileName()));
            published++;
        }
    }
}
