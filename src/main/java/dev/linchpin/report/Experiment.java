package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The experiment's answer: per objective (its models grouped over seeds: {@code cft-s0}, {@code cft-s1}, …)
 * and per data set and metric, the mean ± standard deviation over seeds and a 95 % bootstrap interval of
 * the mean; and for the compared pairs ({@link #PAIRS}) the paired difference with its 95 % interval
 * ({@link PairedBootstrap}), in points. Metrics: greedy accuracy and pass@k at the largest k.
 *
 * @param objectives objective → its models (seed order); "base" → ["base"]
 * @param seeds      objective → the seed numbers (from the model names; empty for base)
 * @param metrics    one block per data set and metric
 * @param differences one per data set, metric and pair whose both objectives were evaluated
 * @param entropyOverlap {@code entropy-overlap.json} (critical vs top-entropy positions), null if absent
 * @param lrChoice       {@code lr.json} (the learning-rate choice on the validation split), null if absent
 */
public record Experiment(Map<String, List<String>> objectives, Map<String, List<Long>> seeds, List<MetricBlock> metrics,
        List<Difference> differences, JsonNode entropyOverlap, JsonNode lrChoice) {
    /** The compared pairs (a − b): the papers' claims and the controls, in report order. */
    public static final List<String[]> PAIRS = List.of(new String[] {"cft", "sft"}, new String[] {"cft", "entropy"},
            new String[] {"cft", "random"}, new String[] {"sftkey", "sft"}, new String[] {"sft", "base"}, new String[] {"cft", "base"});
    private static final Pattern SEEDED = Pattern.compile("(.+)-s(\\d+)");

    /**
     * One objective on one data set and metric.
     *
     * @param mean     mean over seeds of the model's score (fraction)
     * @param std      sample standard deviation over seeds (0 for one seed)
     * @param lo       lower end of the 95 % bootstrap interval of the mean (questions and seeds resampled)
     * @param hi       upper end
     * @param perSeed  each seed's score, seed order
     */
    public record Summary(double mean, double std, double lo, double hi, List<Double> perSeed) {}

    /** A data set and metric ("greedy" or "pass@k"), objective → its summary, in objective order. */
    public record MetricBlock(String dataset, String metric, int questions, Map<String, Summary> byObjective) {}

    /** a − b on one data set and metric, fractions. */
    public record Difference(String dataset, String metric, String a, String b, PairedBootstrap.Interval interval) {
        /** The sentence the report leads with, generated from the numbers. */
        public String sentence() {
            double d = 100 * interval.mean(), lo = 100 * interval.lo(), hi = 100 * interval.hi();
            String verdict = interval.excludesZero()
                    ? (d > 0 ? upper(a) + " is ahead at this scale (the interval excludes 0)" : upper(b) + " is ahead at this scale (the interval excludes 0)")
                    : "not distinguishable from " + upper(b) + " at this scale";
            String rel = Math.abs(d) < 0.05 ? "level with " + upper(b) : (d > 0 ? "ahead of " : "behind ") + upper(b) + " by "
                    + String.format(Locale.ROOT, "%.1f", Math.abs(d)) + " points";
            return String.format(Locale.ROOT, "%s, %s on %s: %s is %s, 95 %% interval [%.1f, %.1f]: %s.", dataset, metric,
                    interval.seeds() > 1 ? interval.seeds() + " seeds × " + interval.questions() + " questions" : interval.questions() + " questions",
                    upper(a), rel, lo, hi, verdict);
        }
    }

    static String upper(String objective) {
        return switch (objective) {
            case "sftkey" -> "SFTKey";
            case "base", "random", "entropy" -> objective;
            default -> objective.toUpperCase(Locale.ROOT);
        };
    }

    /** Groups {@code d}'s evaluated models and computes every block and difference from their per-question verdicts. */
    static Experiment of(RunData d, List<Integer> ks) throws IOException {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        Map<String, List<Long>> seeds = new LinkedHashMap<>();
        for (String model : d.models()) {
            if (!d.evals().containsKey(model)) continue;
            Matcher m = SEEDED.matcher(model);
            String objective = m.matches() ? m.group(1) : model;
            groups.computeIfAbsent(objective, k -> new ArrayList<>()).add(model);
            seeds.computeIfAbsent(objective, k -> new ArrayList<>());
            if (m.matches()) seeds.get(objective).add(Long.parseLong(m.group(2)));
        }
        Map<String, QuestionScores> scores = new LinkedHashMap<>();
        for (List<String> models : groups.values()) for (String model : models) scores.put(model, QuestionScores.read(d.layout().eval(model)));
        List<MetricBlock> blocks = new ArrayList<>();
        List<Difference> diffs = new ArrayList<>();
        JsonNode overlap = optionalJson(d.layout().entropyOverlap()), lr = optionalJson(d.layout().lrChoice());
        if (groups.isEmpty()) return new Experiment(groups, seeds, blocks, diffs, overlap, lr);
        QuestionScores first = scores.values().iterator().next();
        List<String> metricNames = new ArrayList<>(List.of("greedy"));
        if (!ks.isEmpty() && ks.get(ks.size() - 1) > 1) metricNames.add("pass@" + ks.get(ks.size() - 1));
        for (String dataset : first.byDataset().keySet()) {
            List<String> ids = new ArrayList<>(first.byDataset().get(dataset).keySet());
            for (String metric : metricNames) {
                Map<String, double[][]> matrices = new LinkedHashMap<>();
                for (Map.Entry<String, List<String>> g : groups.entrySet()) {
                    double[][] x = matrix(g.getValue(), scores, dataset, ids, metric, d);
                    if (x != null) matrices.put(g.getKey(), x);
                }
                Map<String, Summary> by = new LinkedHashMap<>();
                for (Map.Entry<String, double[][]> e : matrices.entrySet()) by.put(e.getKey(), summary(e.getValue()));
                blocks.add(new MetricBlock(dataset, metric, ids.size(), by));
                for (String[] p : PAIRS) {
                    double[][] a = matrices.get(p[0]), b = matrices.get(p[1]);
                    if (a == null || b == null) continue;
                    if (b.length == 1 && a.length > 1) b = repeat(b[0], a.length);   // the base has one row for every seed
                    if (a.length != b.length) continue;
                    diffs.add(new Difference(dataset, metric, p[0], p[1], PairedBootstrap.of(a, b)));
                }
            }
        }
        return new Experiment(groups, seeds, blocks, diffs, overlap, lr);
    }

    private static JsonNode optionalJson(java.nio.file.Path file) throws IOException {
        if (!java.nio.file.Files.exists(file)) return null;
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            if (n == null || !n.isObject()) throw new ReportInputException(file, "expected a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ReportInputException(file, 0, "not valid JSON: " + e.getMessage(), e);
        }
    }

    /** [seed][question] scores of {@code models} on {@code ids}; null when a model lacks the data set or a question. */
    private static double[][] matrix(List<String> models, Map<String, QuestionScores> scores, String dataset, List<String> ids, String metric,
            RunData d) throws IOException {
        int k = metric.equals("greedy") ? 0 : Integer.parseInt(metric.substring("pass@".length()));
        double[][] x = new double[models.size()][ids.size()];
        for (int s = 0; s < models.size(); s++) {
            Map<String, QuestionScores.Verdict> q = scores.get(models.get(s)).byDataset().get(dataset);
            if (q == null) return null;
            for (int j = 0; j < ids.size(); j++) {
                QuestionScores.Verdict v = q.get(ids.get(j));
                if (v == null) throw new ReportInputException(d.layout().eval(models.get(s)), "question '" + ids.get(j) + "' of '" + dataset
                        + "' is missing (every model must be evaluated on the same questions)");
                x[s][j] = k == 0 ? (v.greedy() ? 1 : 0) : v.passAtK(k);
            }
        }
        return x;
    }

    private static Summary summary(double[][] x) {
        double[] perSeed = new double[x.length];
        List<Double> list = new ArrayList<>();
        for (int s = 0; s < x.length; s++) {
            double sum = 0;
            for (double v : x[s]) sum += v;
            perSeed[s] = sum / x[s].length;
            list.add(perSeed[s]);
        }
        double[] ms = PairedBootstrap.meanStd(perSeed);
        PairedBootstrap.Interval ci = PairedBootstrap.of(x, new double[x.length][x[0].length]);
        return new Summary(ms[0], ms[1], ci.lo(), ci.hi(), List.copyOf(list));
    }

    private static double[][] repeat(double[] row, int n) {
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) out[i] = row;
        return out;
    }

    /** The block of {@code dataset} and {@code metric}, or null. */
    MetricBlock block(String dataset, String metric) {
        for (MetricBlock b : metrics) if (b.dataset().equals(dataset) && b.metric().equals(metric)) return b;
        return null;
    }
}
