package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.rundir.RunManifest;
import java.util.List;
import java.util.Map;

/**
 * {@code report.json}: every number the page shows, machine-readable. Fractions are fractions (not
 * percent), times are seconds, entropy is nats; an unknown number is null.
 */
final class ReportJson {
    static final int VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportJson() {}

    static ObjectNode of(ReportModel m, List<String> findings) {
        RunData d = m.data();
        ObjectNode root = JSON.createObjectNode();
        root.put("version", VERSION);
        root.put("run_dir", d.layout().root().toString());
        ObjectNode run = root.putObject("run");
        if (d.manifest() != null) {
            RunManifest man = d.manifest();
            run.put("name", man.name());
            run.put("quick", man.quick());
            run.put("base_model", man.baseModel());
            run.put("started_at", man.startedAt());
            run.put("finished_at", man.finishedAt());
            ObjectNode settings = run.putObject("settings");
            man.settings().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> settings.put(e.getKey(), e.getValue()));
            ObjectNode env = run.putObject("environment");
            man.environment().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> env.put(e.getKey(), e.getValue()));
        }
        ArrayNode models = root.putArray("models");
        d.models().forEach(models::add);
        ArrayNode ks = root.putArray("ks");
        m.ks().forEach(ks::add);

        ArrayNode results = root.putArray("results");
        for (String ds : m.datasets()) {
            ObjectNode t = results.addObject();
            t.put("dataset", ds);
            ArrayNode rows = t.putArray("rows");
            for (ReportModel.ResultRow r : m.tables().get(ds)) {
                ObjectNode o = rows.addObject();
                o.put("model", r.model());
                if (r.questions() != null) o.put("questions", r.questions());
                else o.putNull("questions");
                put(o, "greedy_accuracy", r.greedyAccuracy());
                ObjectNode pass = o.putObject("pass_at_k");
                for (int k : m.ks()) put(pass, Integer.toString(k), r.passAtK().get(k));
                put(o, "entropy", r.entropy());
                put(o, "trained_token_fraction", r.trainedTokenFraction());
                put(o, "train_seconds", r.trainSeconds());
                put(o, "eval_seconds", r.evalSeconds());
            }
        }

        root.set("experiment", experiment(m.experiment()));

        ArrayNode stages = root.putArray("stages");
        if (d.manifest() != null) {
            for (RunManifest.Stage s : d.manifest().stages()) {
                ObjectNode o = stages.addObject();
                o.put("name", s.name());
                o.put("model", s.model());
                o.put("seconds", s.seconds());
                o.put("output", s.output());
            }
        }
        put(root, "total_stage_seconds", m.totalStageSeconds());

        ObjectNode masks = root.putObject("masks");
        MaskStats s = d.masks();
        masks.put("present", s != null);
        if (s != null) {
            masks.put("examples", s.examples());
            masks.put("kept", s.kept());
            masks.put("response_tokens", s.responseTokens());
            masks.put("critical", s.critical());
            masks.put("examined_positions", s.examined());
            put(masks, "critical_fraction", s.criticalFraction());
            masks.put("critical_fraction_definition", "sum of critical positions / sum of response tokens over kept examples");
            ArrayNode per = masks.putArray("per_example");
            for (MaskStats.ExampleFraction f : s.perExample()) {
                ObjectNode o = per.addObject();
                o.put("id", f.id());
                o.put("critical", f.critical());
                o.put("response_tokens", f.responseTokens());
                o.put("fraction", f.fraction());
            }
            if (m.histogram() != null) {
                ObjectNode h = masks.putObject("histogram");
                ArrayNode edges = h.putArray("edges");
                for (int i = 0; i <= m.histogram().counts().size(); i++) edges.add(m.histogram().edge(i));
                ArrayNode counts = h.putArray("counts");
                m.histogram().counts().forEach(counts::add);
            }
            ArrayNode shown = masks.putArray("shown_examples");
            s.shown().forEach(r -> shown.add(r.id()));
        }
        if (d.masksSummary() != null) root.set("mining_summary", d.masksSummary());

        ObjectNode training = root.putObject("training");
        for (TrainMetrics t : d.metrics().values()) {
            ObjectNode o = training.putObject(t.objective());
            o.put("steps", t.steps().size());
            put(o, "final_loss", t.finalLoss());
            put(o, "mean_trained_token_fraction", t.meanTrainedTokenFraction());
            ArrayNode trainStages = o.putArray("stages");
            for (TrainMetrics.StageSummary st : t.stageSummaries()) {
                trainStages.addObject().put("stage", st.stage()).put("steps", st.steps())
                        .put("mean_trained_token_fraction", st.meanTrainedTokenFraction())
                        .put("mean_tokens_per_s", st.meanTokensPerS()).put("final_loss", st.finalLoss());
            }
            ArrayNode loss = o.putArray("loss");
            for (TrainMetrics.Step st : t.steps()) loss.addArray().add(st.step()).add(st.loss());
        }

        ArrayNode plots = root.putArray("plots");
        m.plotIds().forEach(plots::add);
        ArrayNode f = root.putArray("findings");
        findings.forEach(f::add);
        ArrayNode missing = root.putArray("missing");
        d.missing().forEach(missing::add);
        ArrayNode notes = root.putArray("notes");
        d.notes().forEach(notes::add);
        return root;
    }

    /** Objectives with their seeds, per data set and metric mean ± std and interval, the paired differences. */
    private static ObjectNode experiment(Experiment x) {
        ObjectNode e = JSON.createObjectNode();
        ObjectNode objectives = e.putObject("objectives");
        for (Map.Entry<String, List<String>> g : x.objectives().entrySet()) {
            ObjectNode o = objectives.putObject(g.getKey());
            ArrayNode models = o.putArray("models");
            g.getValue().forEach(models::add);
            ArrayNode seeds = o.putArray("seeds");
            x.seeds().get(g.getKey()).forEach(seeds::add);
        }
        ArrayNode metrics = e.putArray("metrics");
        for (Experiment.MetricBlock b : x.metrics()) {
            ObjectNode o = metrics.addObject();
            o.put("dataset", b.dataset());
            o.put("metric", b.metric());
            o.put("questions", b.questions());
            ObjectNode by = o.putObject("objectives");
            for (Map.Entry<String, Experiment.Summary> s : b.byObjective().entrySet()) {
                ObjectNode v = by.putObject(s.getKey());
                v.put("mean", s.getValue().mean());
                v.put("std_over_seeds", s.getValue().std());
                v.put("ci95_lo", s.getValue().lo());
                v.put("ci95_hi", s.getValue().hi());
                ArrayNode per = v.putArray("per_seed");
                s.getValue().perSeed().forEach(per::add);
            }
        }
        ArrayNode diffs = e.putArray("differences");
        for (Experiment.Difference d : x.differences()) {
            ObjectNode o = diffs.addObject();
            o.put("a", d.a());
            o.put("b", d.b());
            o.put("dataset", d.dataset());
            o.put("metric", d.metric());
            o.put("mean", d.interval().mean());
            o.put("ci95_lo", d.interval().lo());
            o.put("ci95_hi", d.interval().hi());
            o.put("seeds", d.interval().seeds());
            o.put("questions", d.interval().questions());
            o.put("sentence", d.sentence());
        }
        e.put("bootstrap", PairedBootstrap.B + " paired resamples of seeds then questions, java.util.Random(" + PairedBootstrap.RNG_SEED
                + "), 95 % percentile interval");
        if (x.entropyOverlap() != null) e.set("entropy_overlap", x.entropyOverlap());
        if (x.lrChoice() != null) e.set("lr_choice", x.lrChoice());
        return e;
    }

    /** JSON has no NaN and the report has unknowns: both are null. */
    private static void put(ObjectNode o, String key, Double v) {
        if (v == null || !Double.isFinite(v)) o.putNull(key);
        else o.put(key, v);
    }

    static String text(JsonNode n) {
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the report", e);
        }
    }
}
