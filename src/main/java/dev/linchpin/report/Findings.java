package dev.linchpin.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The "what this shows" sentences, generated from the numbers only: which model is highest and lowest
 * on each metric, the critical fraction against the paper's figure, and what is missing. No judgement
 * is added beyond what the numbers state.
 */
final class Findings {
    private Findings() {}

    /** The compared pairs the page leads with, in words: CFT − SFT, CFT − entropy, SFTKey − SFT on every data set and metric. */
    static List<String> answers(Experiment x) {
        List<String> out = new ArrayList<>();
        for (String[] pair : List.of(new String[] {"cft", "sft"}, new String[] {"cft", "entropy"}, new String[] {"sftkey", "sft"})) {
            for (Experiment.Difference d : x.differences()) {
                if (d.a().equals(pair[0]) && d.b().equals(pair[1])) out.add(d.sentence());
            }
        }
        return out;
    }

    static List<String> of(ReportModel m) {
        List<String> out = new ArrayList<>();
        RunData d = m.data();
        Experiment x = m.experiment();
        if (x.lrChoice() != null) {
            List<String> tried = new ArrayList<>();
            for (var c : x.lrChoice().path("candidates")) {
                tried.add(String.format(Locale.ROOT, "%s → %s", c.path("lr").asText(), Html.percent(c.path("val_greedy_accuracy").asDouble())));
            }
            out.add(String.format(Locale.ROOT, "Learning rate: %s for every objective, chosen for SFT (seed 0) by greedy accuracy on the "
                    + "validation split among %s.", x.lrChoice().path("chosen").asText(), String.join(", ", tried)));
        }
        if (x.entropyOverlap() != null) {
            var o = x.entropyOverlap();
            out.add(String.format(Locale.ROOT, "Critical vs high-entropy tokens at the same density: %s of the critical tokens are among "
                    + "the base's top-entropy tokens of their response (%s expected by chance); pooled Jaccard %s.",
                    Html.percent(o.path("critical_also_high_entropy").asDouble()), Html.percent(o.path("chance_fraction").asDouble()),
                    Html.number(o.path("jaccard").asDouble(), 3)));
        }
        MaskStats s = d.masks();
        if (s != null) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                    "Mining: %d examples, %d kept (greedy response verified correct).", s.examples(), s.kept()));
            if (s.criticalFraction() != null) {
                b.append(String.format(Locale.ROOT, " Of the kept examples' %d response tokens, %d are critical (%s)",
                        s.responseTokens(), s.critical(), Html.percent(s.criticalFraction())));
                double lo = Double.MAX_VALUE, hi = -1;
                for (MaskStats.ExampleFraction f : s.perExample()) {
                    lo = Math.min(lo, f.fraction());
                    hi = Math.max(hi, f.fraction());
                }
                b.append(String.format(Locale.ROOT, "; per kept example the fraction ranges from %s to %s.", Html.percent(lo), Html.percent(hi)));
                b.append(" The paper (Ruan et al.) reports under 12 % critical tokens for 1.5B–8B models");
                if (d.manifest() != null && d.manifest().baseModel() != null) b.append("; this run's base model is ").append(d.manifest().baseModel());
                b.append('.');
            }
            out.add(b.toString());
        }
        for (String ds : m.datasets()) {
            List<ReportModel.ResultRow> rows = m.tables().get(ds);
            List<String> parts = new ArrayList<>();
            extremes("greedy accuracy", rows, ReportModel.ResultRow::greedyAccuracy, Html::percent, parts);
            if (!m.ks().isEmpty()) {
                int k = m.ks().get(m.ks().size() - 1);
                extremes("pass@" + k, rows, r -> r.passAtK().get(k), Html::percent, parts);
            }
            extremes("mean entropy", rows, ReportModel.ResultRow::entropy, v -> Html.number(v, 3) + " nats", parts);
            if (!parts.isEmpty()) out.add("On " + ds + ": " + String.join("; ", parts) + ".");
        }
        if (!d.missing().isEmpty()) out.add("Not in this report (missing from the run directory): " + d.missing().size() + " item(s), listed below.");
        return out;
    }

    /** "metric: highest a (v), lowest b (w), base x" over the rows that have the metric; ties list every model. */
    private static void extremes(String metric, List<ReportModel.ResultRow> rows, Function<ReportModel.ResultRow, Double> get,
            Function<Double, String> fmt, List<String> parts) {
        Double hi = null, lo = null, base = null;
        int present = 0;
        for (ReportModel.ResultRow r : rows) {
            Double v = get.apply(r);
            if (v == null) continue;
            present++;
            if (r.model().equals("base")) base = v;
            hi = hi == null ? v : Math.max(hi, v);
            lo = lo == null ? v : Math.min(lo, v);
        }
        if (present == 0) return;
        if (present == 1 || hi.equals(lo)) {
            parts.add(metric + " " + fmt.apply(hi) + (present == 1 ? " (" + who(rows, get, hi) + " only)" : " for every model"));
            return;
        }
        String p = metric + ": highest " + who(rows, get, hi) + " (" + fmt.apply(hi) + "), lowest " + who(rows, get, lo) + " (" + fmt.apply(lo) + ")";
        if (base != null) p += ", base " + fmt.apply(base);
        parts.add(p);
    }

    private static String who(List<ReportModel.ResultRow> rows, Function<ReportModel.ResultRow, Double> get, double v) {
        List<String> names = new ArrayList<>();
        for (ReportModel.ResultRow r : rows) if (get.apply(r) != null && get.apply(r) == v) names.add(r.model());
        return String.join(" and ", names);
    }
}
