package dev.linchpin.mine;

import dev.linchpin.engine.ItemFailures;
import dev.linchpin.data.DatasetException;
import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.DatasetReader;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.engine.EngineDevice;
import dev.linchpin.engine.EosTokens;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.verify.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A whole mining job: data file → masks file, resumable, optionally one shard of the data.
 *
 * <p>Order of work: (1) the whole data file is read once and checked (bad lines, missing gold answers
 * and duplicate ids fail here, naming file and line, before any model is loaded); (2) the masks file is
 * opened for appending, dropping a truncated last line, and its finished ids are skipped — after checking
 * that it was mined with the same settings ({@code <out>.options.json}, {@link MiningFingerprint}); (3) the
 * remaining examples of the shard are mined batch by batch in data order, each batch appended and
 * forced to disk before the next starts, and the summary rewritten.
 *
 * <p>An example that cannot be mined (see {@link ItemFailures}) gets a record with its reason and the
 * job goes on; it counts as finished, so a resumed job does not retry it. The engine never chooses
 * token ids beyond the tokenizer's (checkpoints pad the embedding: {@link RolloutEngine#restrictVocabulary}).
 */
public final class MiningRun {
    private MiningRun() {}

    /**
     * Everything a run needs.
     *
     * @param model          Hugging Face model directory (config.json, safetensors, tokenizer files)
     * @param data           JSONL data set
     * @param out            masks file (JSONL); the summary goes to {@code <out>.summary.json}
     * @param format         data format (AUTO detects it)
     * @param promptStyle    how prompts are written
     * @param promptTemplate the base template or chat user template (null: default)
     * @param systemPrompt   chat system prompt (null: none)
     * @param shard          which part of the data this run mines
     * @param options        the mining options
     * @param kvBudgetBytes  the engine's KV-cache budget
     * @param threads        engine threads (<= 0: all cores)
     * @param device         where the rollout engine runs (part of the masks' fingerprint: numerics differ)
     */
    public record Settings(Path model, Path data, Path out, DatasetFormat format, PromptEncoder.Style promptStyle,
            String promptTemplate, String systemPrompt, Shard shard, MiningOptions options, long kvBudgetBytes,
            int threads, EngineDevice device) {
        /** Settings with the engine on the CPU. */
        public Settings(Path model, Path data, Path out, DatasetFormat format, PromptEncoder.Style promptStyle,
                String promptTemplate, String systemPrompt, Shard shard, MiningOptions options, long kvBudgetBytes,
                int threads) {
            this(model, data, out, format, promptStyle, promptTemplate, systemPrompt, shard, options, kvBudgetBytes, threads,
                    EngineDevice.CPU);
        }

        public Settings {
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(promptStyle, "promptStyle");
            Objects.requireNonNull(shard, "shard");
            Objects.requireNonNull(options, "options");
        }
    }

    /** Runs the job; progress, resume notes and the final summary line go to {@code progress}. */
    public static MiningSummary run(Settings s, ProgressListener progress) throws IOException {
        long shardSize = checkData(s.data(), s.format(), s.shard());
        if (!Files.isDirectory(s.model())) throw new IOException(s.model() + ": model directory not found");
        MiningSummary summary = new MiningSummary();
        Path summaryFile = MiningSummary.pathFor(s.out());
        try (MasksFile masks = MasksFile.openForAppend(s.out(), summary::countResumed)) {
            if (masks.truncatedBytes() > 0) {
                progress.message("mine: dropped a truncated last line (" + masks.truncatedBytes() + " bytes) of " + s.out());
            }
            Set<String> finished = masks.finishedIds();
            MiningFingerprint.recordOrCheck(s.out(), MiningFingerprint.of(s), !finished.isEmpty(), progress);
            long todo = 0;
            try (DatasetReader r = DatasetReader.open(s.data(), s.format())) {
                for (long i = 0; r.hasNext(); i++) {
                    Example e = r.next();
                    if (s.shard().contains(i) && !finished.contains(e.id())) todo++;
                }
            }
            if (!finished.isEmpty()) progress.message("mine: resuming " + s.out() + ": " + finished.size() + " records done, " + todo + " to go");
            summary.startClock();
            if (todo == 0) {
                summary.write(summaryFile);
                progress.message(describe(summary, shardSize));
                return summary;
            }
            try (Tokenizer tokenizer = Tokenizer.load(s.model());
                 RolloutEngine engine = RolloutEngine.fromHuggingFace(s.model(), s.kvBudgetBytes(), s.threads(), s.device())) {
                long[] eosIds = EosTokens.union(tokenizer.eosTokenIds(), engine.config().eosTokenIds());
                engine.restrictVocabulary(Math.min(tokenizer.vocabSize(), engine.config().vocabSize()));
                progress.message("mine: engine: " + engine.describe());
                CriticalTokenMiner miner = new CriticalTokenMiner(engine,
                        PromptEncoder.of(tokenizer, s.promptStyle(), s.promptTemplate(), s.systemPrompt()),
                        TokenText.of(tokenizer), new Verifier(), s.options(), eosIds);
                ProgressListener.Task bar = progress.start("mine", Math.max(1, todo));
                long startNanos = System.nanoTime();
                long done = 0;
                FailureRun failures = new FailureRun(s.data());
                try (DatasetReader r = DatasetReader.open(s.data(), s.format())) {
                    List<CriticalTokenMiner.Input> batch = new ArrayList<>();
                    for (long i = 0; r.hasNext(); i++) {
                        Example e = r.next();
                        if (!s.shard().contains(i) || finished.contains(e.id())) continue;
                        batch.add(new CriticalTokenMiner.Input(i, e));
                        if (batch.size() == s.options().batchSize() || !r.hasNext()) {
                            done += flush(miner, batch, masks, summary, summaryFile, failures, progress);
                            bar.update(done, rates(summary, done, startNanos));
                        }
                    }
                    if (!batch.isEmpty()) {
                        done += flush(miner, batch, masks, summary, summaryFile, failures, progress);
                        bar.update(done, rates(summary, done, startNanos));
                    }
                }
                append(failures.drain(), masks, summary, summaryFile);
            }
        }
        progress.message(describe(summary, shardSize));
        return summary;
    }

    /** The status after the bar: this run's examples/min and branch tokens/s, the critical fraction so far. */
    private static String rates(MiningSummary summary, long done, long startNanos) {
        double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        return String.format(Locale.ROOT, "%.1f examples/min, %.0f branch tokens/s, critical %.1f%%",
                done * 60.0 / seconds, summary.branchTokens() / seconds, 100 * summary.criticalFraction());
    }

    private static int flush(CriticalTokenMiner miner, List<CriticalTokenMiner.Input> batch, MasksFile masks,
            MiningSummary summary, Path summaryFile, FailureRun failures, ProgressListener progress) throws IOException {
        BatchResult result = miner.mineEach(batch);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            examples.add(batch.get(i).example());
            MaskRecord r = result.records().get(i);
            if (r.failed()) {
                progress.message("mine: " + r.id() + " (" + where(batch.get(i).example()) + ") could not be mined and is recorded"
                        + " with its reason: " + r.error());
            }
        }
        summary.addWork(result);
        append(failures.admit(result.records(), examples), masks, summary, summaryFile);
        int n = batch.size();
        batch.clear();
        return n;
    }

    private static String where(Example e) {
        return e.sourceFile().getFileName() + ":" + e.line();
    }

    private static void append(List<MaskRecord> records, MasksFile masks, MiningSummary summary, Path summaryFile)
            throws IOException {
        masks.append(records);
        for (MaskRecord r : records) summary.count(r);
        summary.write(summaryFile);
    }

    /**
     * Reads the whole data file once: every line must be a record with a gold answer and ids must be
     * unique (resume works by id). Returns the number of examples in the shard.
     *
     * @throws DatasetException naming the file and line of the first bad record
     */
    public static long checkData(Path data, DatasetFormat format, Shard shard) {
        Map<String, Long> lines = new HashMap<>();
        long inShard = 0;
        try (DatasetReader r = DatasetReader.open(data, format)) {
            for (long i = 0; r.hasNext(); i++) {
                Example e = r.next();
                if (e.goldAnswer() == null || e.goldAnswer().isBlank()) {
                    throw new DatasetException(data, e.line(), "example " + e.id() + " has no gold answer to verify against");
                }
                Long first = lines.putIfAbsent(e.id(), e.line());
                if (first != null) {
                    throw new DatasetException(data, e.line(), "duplicate id " + e.id() + " (first on line " + first
                            + "); mining resumes by id, so ids must be unique");
                }
                if (shard.contains(i)) inShard++;
            }
        }
        if (lines.isEmpty()) throw new DatasetException(data, 0, "no examples");
        return inShard;
    }

    private static String describe(MiningSummary s, long shardSize) {
        return String.format(java.util.Locale.ROOT,
                "mine: %d/%d examples (kept %d, dropped %d, failed %d), %d of %d positions critical (%.2f%%), %d branches, "
                        + "%d branch tokens; this run %.1f examples/min, %.0f branch tokens/s",
                s.examples(), shardSize, s.kept(), s.dropped(), s.failed(), s.critical(), s.positions(), 100 * s.criticalFraction(),
                s.branches(), s.branchTokens(), s.examplesPerMinute(), s.branchTokensPerSecond());
    }
}
