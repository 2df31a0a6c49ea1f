package dev.linchpin.report;

import dev.linchpin.rundir.RunManifest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The numbers of the report, computed once from a {@link RunData}: both {@code report.json} and
 * {@code report.html} are written from this, so the page shows nothing the JSON lacks.
 *
 * @param data      the inputs
 * @param datasets  eval data set names in order of first appearance ("overall" last when there are several)
 * @param ks        every k of pass@k found, ascending
 * @param tables    data set → one row per model ("base", then the objectives)
 * @param histogram the critical-fraction histogram, null without masks
 * @param experiment per objective over seeds: means, standard deviations, intervals and paired differences
 */
public record ReportModel(RunData data, List<String> datasets, List<Integer> ks, Map<String, List<ResultRow>> tables,
        Histogram histogram, Experiment experiment) {

    /**
     * One row of a results table; null where the run has no such number (yet).
     *
     * @param trainedTokenFraction mean over steps of metrics.jsonl's trained_token_fraction
     * @param trainSeconds         Σ wall time of the manifest's "train" stages for the model
     * @param evalSeconds          Σ wall time of the manifest's "eval" stages for the model, else the eval JSON's timing
     */
    public record ResultRow(String model, Integer questions, Double greedyAccuracy, Map<Integer, Double> passAtK, Double entropy,
            Double trainedTokenFraction, Double trainSeconds, Double evalSeconds) {}

    /**
     * Counts of kept examples by critical fraction. Bin i is [edges[i], edges[i+1]), the last bin closed;
     * the range is [0, u/10] with u the smallest whole number of tenths ≥ the largest fraction (at least 1),
     * in {@link #BINS} bins. Binning uses integer arithmetic on critical and response counts, so a
     * fraction on an edge always falls in the bin that starts there.
     *
     * @param upperTenths u
     * @param counts      examples per bin
     */
    public record Histogram(int upperTenths, List<Integer> counts) {
        public static final int BINS = 20;

        public double edge(int i) {
            return upperTenths / 10.0 * i / BINS;
        }

        static Histogram of(List<MaskStats.ExampleFraction> fractions) {
            int u = 1;
            for (MaskStats.ExampleFraction f : fractions) {
                u = (int) Math.max(u, (10L * f.critical() + f.responseTokens() - 1) / f.responseTokens());
            }
            int[] counts = new int[BINS];
            for (MaskStats.ExampleFraction f : fractions) {
                // bin = floor((c / n) / (u / 10 / BINS)) = floor(10·BINS·c / (n·u))
                long bin = 10L * BINS * f.critical() / ((long) f.responseTokens() * u);
                counts[(int) Math.min(BINS - 1, bin)]++;
            }
            List<Integer> list = new ArrayList<>();
            for (int c : counts) list.add(c);
            return new Histogram(u, List.copyOf(list));
        }
    }

    /** Computes the model of {@code data}. */
    public static ReportModel of(RunData data) throws java.io.IOException {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        TreeSet<Integer> ks = new TreeSet<>();
        for (EvalSummary e : data.evals().values()) {
            for (EvalSummary.DatasetScore d : e.datasets()) names.add(d.name());
            ks.addAll(e.ks());
            ks.addAll(e.overall().passAtK().keySet());
        }
        List<String> datasets = new ArrayList<>(names);
        if (datasets.size() > 1 && !names.contains("overall")) datasets.add("overall");
        Map<String, List<ResultRow>> tables = new LinkedHashMap<>();
        for (String ds : datasets) {
            List<ResultRow> rows = new ArrayList<>();
            for (String model : data.models()) rows.add(row(data, ds, model));
            tables.put(ds, rows);
        }
        Histogram h = data.masks() == null || data.masks().perExample().isEmpty() ? null : Histogram.of(data.masks().perExample());
        List<Integer> kList = List.copyOf(ks);
        return new ReportModel(data, List.copyOf(datasets), kList, tables, h, Experiment.of(data, kList));
    }

    private static ResultRow row(RunData data, String dataset, String model) {
        EvalSummary e = data.evals().get(model);
        EvalSummary.DatasetScore s = e == null ? null : e.dataset(dataset);
        TrainMetrics m = data.metrics().get(model);
        Double evalSeconds = stageSeconds(data, "eval", model);
        if (evalSeconds == null && e != null) evalSeconds = e.wallSeconds();
        return new ResultRow(model, s == null ? null : s.questions(), s == null ? null : s.greedyAccuracy(),
                s == null ? Map.of() : s.passAtK(), s == null ? null : s.entropy(),
                m == null ? null : m.meanTrainedTokenFraction(), stageSeconds(data, "train", model), evalSeconds);
    }

    /** Σ seconds of the manifest's stages named {@code stage} for {@code model}; null if there are none. */
    static Double stageSeconds(RunData data, String stage, String model) {
        if (data.manifest() == null) return null;
        Double sum = null;
        for (RunManifest.Stage s : data.manifest().stages()) {
            if (stage.equals(s.name()) && model.equals(s.model())) sum = (sum == null ? 0 : sum) + s.seconds();
        }
        return sum;
    }

    /** Σ seconds of every stage in the manifest (null without one). */
    public Double totalStageSeconds() {
        if (data.manifest() == null) return null;
        double sum = 0;
        for (RunManifest.Stage s : data.manifest().stages()) sum += s.seconds();
        return sum;
    }

    /** The plot element ids the page has, in page order. */
    public List<String> plotIds() {
        List<String> ids = new ArrayList<>();
        if (!experiment.metrics().isEmpty()) ids.add("plot-accuracy");
        for (String ds : passAtKDatasets()) ids.add(passAtKPlotId(ds));
        if (hasEntropy()) ids.add("plot-entropy");
        if (histogram != null) ids.add("plot-critical-histogram");
        if (hasLoss()) ids.add("plot-loss");
        return ids;
    }

    /** Data sets (not "overall") with at least one pass@k value. */
    List<String> passAtKDatasets() {
        List<String> out = new ArrayList<>();
        for (String ds : datasets) {
            if (ds.equals("overall") && datasets.size() > 1) continue;
            boolean any = tables.get(ds).stream().anyMatch(r -> r.passAtK().values().stream().anyMatch(v -> v != null));
            if (any) out.add(ds);
        }
        return out;
    }

    String passAtKPlotId(String dataset) {
        return "plot-passk-" + Html.slug(dataset) + "-" + datasets.indexOf(dataset);
    }

    boolean hasEntropy() {
        return tables.values().stream().flatMap(List::stream).anyMatch(r -> r.entropy() != null);
    }

    boolean hasLoss() {
        return data.metrics().values().stream().anyMatch(m -> !m.steps().isEmpty());
    }
}
