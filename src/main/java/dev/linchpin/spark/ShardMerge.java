package dev.linchpin.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.linchpin.data.DatasetReader;
import dev.linchpin.data.Example;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MasksJson;
import dev.linchpin.mine.MiningSummary;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The driver's last step: the shards' finished masks files interleaved back into data order — the
 * example at position p is the next record of shard p mod n — which is the order in which
 * {@code linchpin mine} appends them for the whole data set. Each line is copied as it is (the miner
 * wrote it, one record per line) after checking that its id is the example's; the records are counted
 * into the summary on the way.
 */
final class ShardMerge {
    private ShardMerge() {}

    static void merge(HadoopFiles files, SparkMiningJob.Settings s, java.nio.file.Path data, Path shardsDir, long total, Path out,
            MiningSummary summary) throws IOException {
        int n = s.shards();
        List<Path> chosen = new ArrayList<>();
        List<BufferedReader> readers = new ArrayList<>();
        long[] lineNumbers = new long[n];
        FileSystem outFs = files.fs(out);
        Path tmp = new Path(out.getParent(), ".tmp-" + UUID.randomUUID() + "-" + out.getName());
        try {
            for (int j = 0; j < n; j++) {
                Path file = finished(files, ShardTask.shardDir(shardsDir, j, n), SparkMiningJob.shardSize(total, j, n));
                chosen.add(file);
                readers.add(file == null ? null : new BufferedReader(new InputStreamReader(files.fs(file).open(file), StandardCharsets.UTF_8)));
                if (file != null) {
                    ShardCheckpoint c = ShardCheckpoint.parse(file.getName()).orElseThrow();
                    summary.addWork(c.generatedTokens(), c.branches(), c.branchTokens());
                }
            }
            try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(outFs.create(tmp, false), StandardCharsets.UTF_8), 1 << 16);
                 DatasetReader examples = DatasetReader.open(data, s.format())) {
                for (long p = 0; examples.hasNext(); p++) {
                    Example e = examples.next();
                    int j = (int) (p % n);
                    String line = readers.get(j) == null ? null : readers.get(j).readLine();
                    lineNumbers[j]++;
                    if (line == null) throw new IOException(chosen.get(j) + " ends before the record of " + e.id() + " (data position " + p + ")");
                    MaskRecord r = parse(line, chosen.get(j), lineNumbers[j]);
                    if (!r.id().equals(e.id())) {
                        throw new IOException(chosen.get(j) + ":" + lineNumbers[j] + ": record " + r.id() + " where the data set has "
                                + e.id() + " (data position " + p + ")");
                    }
                    summary.count(r);
                    w.write(line);
                    w.write('\n');
                }
            }
            for (int j = 0; j < n; j++) {
                if (readers.get(j) != null && readers.get(j).readLine() != null) {
                    throw new IOException(chosen.get(j) + " has more records than shard " + j + "/" + n + " has examples");
                }
            }
            HadoopFiles.replace(outFs, tmp, out);
        } finally {
            for (BufferedReader r : readers) if (r != null) r.close();
            outFs.delete(tmp, false);
        }
        for (int j = 0; j < n; j++) removeLeftovers(files, ShardTask.shardDir(shardsDir, j, n), chosen.get(j));
    }

    /** The finished masks file of a shard of {@code size} examples (null for an empty shard). */
    static Path finished(HadoopFiles files, Path dir, long size) throws IOException {
        if (size == 0) return null;
        FileSystem fs = files.fs(dir);
        if (fs.exists(dir)) {
            FileStatus[] list = fs.listStatus(dir);
            java.util.Arrays.sort(list, Comparator.comparing(st -> st.getPath().getName()));
            for (FileStatus st : list) {
                Optional<ShardCheckpoint> c = ShardCheckpoint.parse(st.getPath().getName());
                if (c.isPresent() && c.get().records() == size) return st.getPath();
            }
        }
        throw new IOException(dir + " has no finished masks file (" + size + " records) although its task succeeded");
    }

    private static MaskRecord parse(String line, Path file, long number) throws IOException {
        try {
            return MasksJson.fromLine(line);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(file + ":" + number + ": not a mask record: " + e.getMessage(), e);
        }
    }

    /** Removes a shard's partial checkpoints and temporaries, keeping its finished file and options. */
    private static void removeLeftovers(HadoopFiles files, Path dir, Path keep) {
        try {
            FileSystem fs = files.fs(dir);
            if (!fs.exists(dir)) return;
            for (FileStatus st : fs.listStatus(dir)) {
                Path p = st.getPath();
                String name = p.getName();
                if (name.equals("options.json") || (keep != null && name.equals(keep.getName()))) continue;
                if (name.startsWith(".tmp-") || ShardCheckpoint.parse(name).isPresent()) fs.delete(p, false);
            }
        } catch (IOException e) {
            // best effort: leftovers cost space, not correctness (the merge picks finished files by name)
        }
    }
}
