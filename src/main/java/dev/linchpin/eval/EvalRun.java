package dev.linchpin.eval;

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
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A whole evaluation job: data files → table and JSON report. Every data file is read and checked
 * first (bad lines and missing gold answers fail naming file and line, before the model is loaded);
 * then the questions are evaluated data set by data set with one progress bar. A question that cannot
 * be evaluated is recorded with its reason and left out of the scores ({@link Evaluator}); the job
 * goes on.
 */
public final class EvalRun {
    private EvalRun() {}

    /**
     * Everything a run needs.
     *
     * @param model          Hugging Face model directory
     * @param data           JSONL data sets, each named by its file stem (stems must differ)
     * @param out            the JSON report (null: none)
     * @param format         data format (AUTO detects it per file)
     * @param promptStyle    how prompts are written
     * @param promptTemplate the base template or chat user template (null: default)
     * @param systemPrompt   chat system prompt (null: none)
     * @param options        sampling and scoring options
     * @param kvBudgetBytes  the engine's KV-cache budget
     * @param threads        engine threads (<= 0: all cores)
     * @param device         where the rollout engine runs
     */
    public record Settings(Path model, List<Path> data, Path out, DatasetFormat format, PromptEncoder.Style promptStyle,
            String promptTemplate, String systemPrompt, EvalOptions options, long kvBudgetBytes, int threads,
            EngineDevice device) {
        /** Settings with the engine on the CPU. */
        public Settings(Path model, List<Path> data, Path out, DatasetFormat format, PromptEncoder.Style promptStyle,
                String promptTemplate, String systemPrompt, EvalOptions options, long kvBudgetBytes, int threads) {
            this(model, data, out, format, promptStyle, promptTemplate, systemPrompt, options, kvBudgetBytes, threads,
                    EngineDevice.CPU);
        }

        public Settings {
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(promptStyle, "promptStyle");
            Objects.requireNonNull(options, "options");
            if (data == null || data.isEmpty()) throw new IllegalArgumentException("at least one data file is required");
            data = List.copyOf(data);
        }
    }

    /** Runs the job: the table goes to {@code table}, progress to {@code progress}; writes the JSON if asked. */
    public static EvalReport run(Settings s, PrintWriter table, ProgressListener progress) throws IOException {
        Map<String, List<Example>> sets = read(s.data(), s.format(), s.options().maxExamples());
        if (!Files.isDirectory(s.model())) throw new IOException(s.model() + ": model directory not found");
        int total = 0;
        for (List<Example> e : sets.values()) total += e.size();
        List<DatasetResult> results = new ArrayList<>();
        long start = System.nanoTime();
        try (Tokenizer tokenizer = Tokenizer.load(s.model());
             RolloutEngine engine = RolloutEngine.fromHuggingFace(s.model(), s.kvBudgetBytes(), s.threads(), s.device())) {
            // Checkpoints pad the embedding beyond the tokenizer: never generate those ids.
            engine.restrictVocabulary(Math.min(tokenizer.vocabSize(), engine.config().vocabSize()));
            Evaluator evaluator = new Evaluator(engine, PromptEncoder.of(tokenizer, s.promptStyle(), s.promptTemplate(),
                    s.systemPrompt()), ids -> tokenizer.decode(ids, true), new Verifier(), s.options(),
                    EosTokens.union(tokenizer.eosTokenIds(), engine.config().eosTokenIds()));
            ProgressListener.Task bar = progress.start("eval", Math.max(1, total));
            long before = 0;
            int i = 0;
            for (Map.Entry<String, List<Example>> set : sets.entrySet()) {
                long offset = before;
                List<QuestionResult> q = evaluator.evaluate(set.getValue(), offset,
                        done -> bar.update(offset + done, set.getKey()));
                results.add(new DatasetResult(set.getKey(), s.data().get(i++), q, Score.of(q, s.options().ks())));
                before += q.size();
            }
            long failed = results.stream().mapToLong(d -> d.score().failed()).sum();
            for (DatasetResult d : results) {
                for (QuestionResult q : d.questions()) {
                    if (q.failed()) progress.message("eval: " + d.name() + " " + q.id() + " (line " + q.line() + ") could not be"
                            + " evaluated: " + q.error());
                }
            }
            bar.finish(total + " questions, " + (long) total * (s.options().samples() + 1) + " responses"
                    + (failed > 0 ? ", " + failed + " failed" : ""));
        }
        EvalReport report = EvalReport.of(s.model(), s.options(), results, (System.nanoTime() - start) / 1e9);
        table.print(report.table());
        table.flush();
        if (s.out() != null) report.writeJson(s.out());
        return report;
    }

    /** Reads the first {@code maxExamples} (<= 0: all) records of every file, keyed by file stem, in order. */
    static Map<String, List<Example>> read(List<Path> files, DatasetFormat format, int maxExamples) {
        Map<String, List<Example>> sets = new java.util.LinkedHashMap<>();
        Map<String, Path> byName = new HashMap<>();
        for (Path f : files) {
            String name = stem(f);
            Path other = byName.putIfAbsent(name, f);
            if (other != null) {
                throw new IllegalArgumentException("data sets are named by file stem, and " + other + " and " + f
                        + " are both '" + name + "'; rename one");
            }
            List<Example> examples = new ArrayList<>();
            try (DatasetReader r = DatasetReader.open(f, format)) {
                while (r.hasNext() && (maxExamples <= 0 || examples.size() < maxExamples)) {
                    Example e = r.next();
                    if (e.goldAnswer() == null || e.goldAnswer().isBlank()) {
                        throw new DatasetException(f, e.line(), "example " + e.id() + " has no gold answer to verify against");
                    }
                    examples.add(e);
                }
            }
            if (examples.isEmpty()) throw new DatasetException(f, 0, "no examples");
            sets.put(name, examples);
        }
        return sets;
    }

    /** "test" for "data/test.jsonl": the file name up to its last dot. */
    static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
