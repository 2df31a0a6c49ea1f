package dev.linchpin.report;

import dev.linchpin.eval.DatasetResult;
import dev.linchpin.eval.EvalOptions;
import dev.linchpin.eval.EvalReport;
import dev.linchpin.eval.QuestionResult;
import dev.linchpin.eval.SampleResult;
import dev.linchpin.eval.Score;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MasksFile;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.rundir.RunLayout;
import dev.linchpin.rundir.RunManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, format-exact demo run directory built by hand: masks and the mining summary through the mine
 * package's own writers, eval JSON through {@link EvalReport#writeJson}, the manifest through
 * {@link RunManifest#write}, metrics.jsonl as literal lines in {@code FineTuner}'s format (the trainer
 * itself needs libtorch and a model).
 *
 * <p>Hand-derived facts the tests check against: kept examples have 10, 8 and 5 response tokens with
 * 2, 1 and 0 critical positions (Σ 3 / 23); one dropped example of 6 tokens. Token 2 of the first
 * example is hostile markup and critical.
 */
final class RunFixture {
    static final String HOSTILE = "<script>alert(1)</script>";
    static final String QUOTES = "\"q\" & 'a'";
    static final List<String> OBJECTIVES = List.of("sft", "cft");
    /** cft's per-step trained-token fractions (mean 0.12); sft's are all 1. */
    static final double[] CFT_FRACTIONS = {0.10, 0.12, 0.14};

    private RunFixture() {}

    /** The kept and dropped records, in file order. */
    static List<MaskRecord> records() {
        List<MaskRecord> out = new ArrayList<>();
        List<String> t1 = List.of("Step", " 1", HOSTILE, " =", " 3", QUOTES, "\n", "Answer", ":", " 6");
        out.add(new MaskRecord("ex-1", 0, "What is 1 + 2 + 3? <b>bold</b> & \"quoted\"", "6", true, "6", 12, ids(10), t1,
                String.join("", t1), List.of(2, 5), List.of(
                        position(0, false, 0.91f, alt("Let", 0.05f, "6", true), alt("First", 0.02f, "6", true)),
                        position(2, true, 0.62f, alt(" 7", 0.21f, "12", false), alt("</script><script>x()</script>", 0.08f, null, false)),
                        position(5, true, 0.55f, alt(" 4", 0.30f, "7", false), alt(" 5", 0.10f, "8", false)))));
        List<String> t2 = List.of("2", " *", " 4", " =", " 8", "\n", "Answer", ":");
        out.add(new MaskRecord("ex-2", 1, "What is 2 * 4?", "8", true, "8", 9, ids(8), t2, String.join("", t2), List.of(3),
                List.of(position(3, true, 0.7f, alt(" +", 0.2f, "6", false), alt(" -", 0.05f, "-2", false)),
                        position(4, false, 0.97f, alt(" 9", 0.01f, "8", true), alt(" 7", 0.01f, "7", false)))));
        List<String> t3 = List.of("5", " -", " 1", " =", " 4");
        out.add(new MaskRecord("ex-3", 2, "What is 5 - 1?", "4", true, "4", 9, ids(5), t3, String.join("", t3), List.of(),
                List.of(position(1, false, 0.8f, alt(" +", 0.1f, "4", true), alt(" *", 0.05f, "4", true)))));
        List<String> t4 = List.of("9", " /", " 3", " =", " 2", ".");
        out.add(new MaskRecord("ex-4", 3, "What is 9 / 3?", "3", false, "2", 9, ids(6), t4, String.join("", t4), List.of(), List.of()));
        return out;
    }

    private static long[] ids(int n) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = 100 + i;
        return a;
    }

    private static MaskRecord.Position position(int t, boolean critical, float p, MaskRecord.Alternative... alts) {
        return new MaskRecord.Position(t, 100 + t, p, critical, List.of(alts));
    }

    private static MaskRecord.Alternative alt(String text, float p, String answer, boolean correct) {
        return new MaskRecord.Alternative(7, text, p, !correct, List.of(new MaskRecord.Continuation(answer, correct, 5)));
    }

    /** Writes masks.jsonl and its summary with the mine package's writers. */
    static void writeMasks(RunLayout layout) throws IOException {
        MiningSummary summary = new MiningSummary();
        try (MasksFile f = MasksFile.openForAppend(layout.masks(), null)) {
            f.append(records());
        }
        records().forEach(summary::count);
        summary.write(layout.masksSummary());
    }

    /**
     * The eval report of {@code model}: data set "test" with two questions, "harder" with one; n = 4
     * samples, k ∈ {1, 2, 4}. {@code shift} adds correct samples so that models differ.
     */
    static EvalReport evalReport(RunLayout layout, String model, int shift) {
        EvalOptions options = new EvalOptions(4, List.of(1, 2, 4), 0.6, 0.95, 1, 64, 0, 2, 8);
        List<QuestionResult> test = List.of(
                question("t1", true, 2 + Math.min(shift, 2), 1.0),
                question("t2", shift > 1, Math.min(shift, 4), 1.5));
        List<QuestionResult> harder = List.of(question("h1", false, Math.min(shift, 4), 2.0 - 0.25 * shift));
        List<DatasetResult> sets = List.of(
                new DatasetResult("test", Path.of("data/test.jsonl"), test, Score.of(test, options.ks())),
                new DatasetResult("harder", Path.of("data/harder.jsonl"), harder, Score.of(harder, options.ks())));
        return EvalReport.of(layout.trainedModel("cft"), options, sets, 3.25 + shift);
    }

    private static QuestionResult question(String id, boolean greedyCorrect, int correctSamples, double entropy) {
        List<SampleResult> samples = new ArrayList<>();
        for (int i = 0; i < 4; i++) samples.add(new SampleResult("sample " + i, i < correctSamples, 10 + i, entropy));
        return new QuestionResult(id, 1, "6", new SampleResult("greedy", greedyCorrect, 12, 0.5), samples);
    }

    /** metrics.jsonl with FineTuner's keys, one line per step. */
    static void writeMetrics(RunLayout layout, String objective, double[] fractions) throws IOException {
        Files.createDirectories(layout.trainDir(objective));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fractions.length; i++) {
            b.append(String.format(java.util.Locale.ROOT,
                    "{\"step\":%d,\"stage\":\"%s\",\"loss\":%s,\"lr\":0.0001,\"grad_norm\":%s,\"tokens_per_s\":%s,\"trained_token_fraction\":%s}%n",
                    i + 1, objective, initialLoss(objective) - 0.3 * i, 1.5 + i, 900.0 + i, fractions[i]));
        }
        Files.writeString(layout.metrics(objective), b.toString(), StandardCharsets.UTF_8);
    }

    /** Different starting losses, so that the two curves of the loss plot do not overlap. */
    static double initialLoss(String objective) {
        return objective.equals("cft") ? 2.5 : 2.0;
    }

    static RunManifest manifest(List<RunManifest.Stage> stages, String finishedAt) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("steps", "3");
        settings.put("lr", "1e-4");
        return new RunManifest(RunManifest.VERSION, "fixture", true, "models/base", OBJECTIVES, settings, stages,
                "2026-11-24T03:00:00Z", finishedAt, Map.of("cores", "2"));
    }

    static List<RunManifest.Stage> allStages() {
        return List.of(new RunManifest.Stage("base", "base", 12.5, "base"),
                new RunManifest.Stage("mine", null, 30, "masks.jsonl"),
                new RunManifest.Stage("train", "sft", 40, "train/sft/final"),
                new RunManifest.Stage("train", "cft", 35, "train/cft/final"),
                new RunManifest.Stage("eval", "base", 8, "eval/base.json"),
                new RunManifest.Stage("eval", "sft", 9, "eval/sft.json"),
                new RunManifest.Stage("eval", "cft", 7.5, "eval/cft.json"));
    }

    /** A finished run: manifest, masks, summary, metrics of both objectives, evals of base, sft and cft. */
    static RunLayout complete(Path dir) throws IOException {
        RunLayout layout = new RunLayout(dir);
        manifest(allStages(), "2026-11-24T03:10:00Z").write(layout.manifest());
        writeMasks(layout);
        writeMetrics(layout, "sft", new double[] {1, 1, 1});
        writeMetrics(layout, "cft", CFT_FRACTIONS);
        evalReport(layout, "base", 0).writeJson(layout.eval("base"));
        evalReport(layout, "sft", 1).writeJson(layout.eval("sft"));
        evalReport(layout, "cft", 2).writeJson(layout.eval("cft"));
        return layout;
    }
}
