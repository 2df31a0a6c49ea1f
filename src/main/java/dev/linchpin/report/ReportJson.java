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
