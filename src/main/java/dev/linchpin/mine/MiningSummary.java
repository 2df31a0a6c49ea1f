package dev.linchpin.mine;

import dev.linchpin.io.AtomicFiles;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Totals of a masks file ({@code <out>.summary.json}, rewritten atomically after every batch). Counts
 * cover every record in the file, also those of earlier, interrupted runs; rates cover this run only.
 */
public final class MiningSummary {
    private long examples, kept, dropped, failed, positions, critical, resumedRecords;
    private long generatedTokens, branches, branchTokens;
    private long startNanos = System.nanoTime();

    /** Counts a record (new, or found in the file on resume). */
    public void count(MaskRecord r) {
        examples++;
        if (r.kept()) kept++;
        else if (r.failed()) failed++;
        else dropped++;
        positions += r.positions().size();
        critical += r.critical().size();
    }

    /** Counts a record that an earlier run wrote. */
    public void countResumed(MaskRecord r) {
        count(r);
        resumedRecords++;
    }

    /** Adds a batch's decode work. */
    public void addWork(BatchResult b) {
        generatedTokens += b.generatedTokens();
        branches += b.branches();
        branchTokens += b.branchTokens();
    }

    /**
     * Adds decode work counted elsewhere: the shards of a distributed job, each of which counted its
     * own batches ({@code dev.linchpin.spark}).
     */
    public void addWork(long generatedTokens, long branches, long branchTokens) {
        this.generatedTokens += generatedTokens;
        this.branches += branches;
        this.branchTokens += branchTokens;
    }

    /** Greedy response tokens generated in this run. */
    public long generatedTokens() { return generatedTokens; }

    /** Restarts the clock of the rates. */
    public void startClock() {
        startNanos = System.nanoTime();
    }

    public long examples() { return examples; }
    public long kept() { return kept; }
    public long dropped() { return dropped; }
    /** Examples that could not be mined (recorded with their reason, neither kept nor dropped). */
    public long failed() { return failed; }
    public long positions() { return positions; }
    public long critical() { return critical; }
    public long branches() { return branches; }
    public long branchTokens() { return branchTokens; }

    /** Critical positions / examined positions (0 when none were examined). */
    public double criticalFraction() {
        return positions == 0 ? 0 : (double) critical / positions;
    }

    /** Seconds since the clock started. */
    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Examples mined per minute in this run. */
    public double examplesPerMinute() {
        double s = seconds();
        return s <= 0 ? 0 : (examples - resumedRecords) * 60.0 / s;
    }

    /** Branch tokens decoded per second in this run. */
    public double branchTokensPerSecond() {
        double s = seconds();
        return s <= 0 ? 0 : branchTokens / s;
    }

    /** The summary as JSON. */
    public ObjectNode toJson() {
        ObjectNode o = MasksJson.mapper().createObjectNode();
        o.put("examples", examples);
        o.put("kept", kept);
        o.put("dropped", dropped);
        o.put("failed", failed);
        o.put("positions", positions);
        o.put("critical", critical);
        o.put("critical_fraction", criticalFraction());
        o.put("resumed_records", resumedRecords);
        ObjectNode run = o.putObject("this_run");
        run.put("examples", examples - resumedRecords);
        run.put("seconds", seconds());
        run.put("generated_tokens", generatedTokens);
        run.put("branches", branches);
        run.put("branch_tokens", branchTokens);
        run.put("examples_per_minute", examplesPerMinute());
        run.put("branch_tokens_per_second", branchTokensPerSecond());
        return o;
    }

    /** Writes {@link #toJson()} to {@code file} atomically (temporary file, then rename). */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, toJsonText());
    }

    /** The text {@link #write} writes. */
    public String toJsonText() throws IOException {
        return MasksJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(toJson()).concat("\n");
    }

    /** {@code <masks file>.summary.json}. */
    public static Path pathFor(Path masksFile) {
        return masksFile.resolveSibling(masksFile.getFileName() + ".summary.json");
    }
}
