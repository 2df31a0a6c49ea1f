package dev.linchpin.eval;

import dev.linchpin.io.AtomicFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of an evaluation: per data set and overall (micro-average over all questions), as a
 * plain-text table and as JSON. The JSON's {@code detail} lists every question's greedy response and
 * samples with their verdicts, token counts and entropies, so every metric can be recomputed from it;
 * only {@code timing} differs between two runs with the same inputs.
 *
 * @param model       the model directory
 * @param options     the options used
 * @param datasets    the data sets, in command-line order
 * @param overall     the metrics over every question of every data set
 * @param wallSeconds wall time of the generation
 */
public record EvalReport(Path model, EvalOptions options, List<DatasetResult> datasets, Score overall, double wallSeconds) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public EvalReport {
        datasets = List.copyOf(datasets);
    }

    /** Builds the report of {@code datasets}, scoring the overall row from all their questions. */
    public static EvalReport of(Path model, EvalOptions options, List<DatasetResult> datasets, double wallSeconds) {
        List<QuestionResult> all = new ArrayList<>();
        for (DatasetResult d : datasets) all.addAll(d.questions());
        return new EvalReport(model, options, datasets, Score.of(all, options.ks()), wallSeconds);
    }

    /** The table: one row per data set and an "overall" row; accuracies in percent, entropy in nats. */
    public String table() {
        List<String[]> rows = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("data set", "questions", "greedy"));
        for (int k : options.ks()) header.add("pass@" + k);
        header.add("entropy");
        rows.add(header.toArray(String[]::new));
        for (DatasetResult d : datasets) rows.add(row(d.name(), d.score()));
        rows.add(row("overall", overall));
        int[] width = new int[header.size()];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                if (i > 0) b.append("  ");
                b.append(i == 0 ? String.format("%-" + width[i] + "s", r[i]) : String.format("%" + width[i] + "s", r[i]));
            }
            b.append('\n');
        }
        b.append(String.format(Locale.ROOT, "n = %d samples per question at T = %s, top-p %s, seed %d; entropy: nats per sampled token%n",
                options.samples(), options.temperature(), options.topP(), options.seed()));
        if (overall.failed() > 0) {
            b.append(String.format(Locale.ROOT, "%d question%s could not be evaluated and %s left out of every score"
                    + " (reasons in the JSON report's detail)%n", overall.failed(), overall.failed() == 1 ? "" : "s",
                    overall.failed() == 1 ? "is" : "are"));
        }
        return b.toString();
    }

    private String[] row(String name, Score s) {
        List<String> r = new ArrayList<>(List.of(name, Integer.toString(s.questions()), percent(s.greedyAccuracy())));
        for (int k : options.ks()) r.add(percent(s.passAtK().get(k)));
        r.add(Double.isNaN(s.entropy()) ? "-" : String.format(Locale.ROOT, "%.3f", s.entropy()));
        return r.toArray(String[]::new);
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    /** The report as JSON (see the class comment). */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model.toString());
        ObjectNode settings = root.putObject("settings");
        settings.put("samples", options.samples());
        ArrayNode ks = settings.putArray("ks");
        options.ks().forEach(ks::add);
        settings.put("temperature", options.temperature());
        settings.put("top_p", options.topP());
        settings.put("seed", options.seed());
        settings.put("max_new_tokens", options.maxNewTokens());
        settings.put("max_examples", options.maxExamples());
        settings.put("entropy", "token-weighted mean of the engine's per-output mean next-token entropy (nats, T = 1)");
        settings.put("pass_at_k", "unbiased estimator 1 - C(n-c,k)/C(n,k), averaged over questions");
        ArrayNode sets = root.putArray("datasets");
        for (DatasetResult d : datasets) {
            ObjectNode o = sets.addObject();
            o.put("name", d.name());
            o.put("file", d.file().toString());
            score(o, d.score());
            ArrayNode detail = o.putArray("detail");
            for (QuestionResult q : d.questions()) {
                ObjectNode qo = detail.addObject();
                qo.put("id", q.id());
                qo.put("line", q.line());
                qo.put("gold", q.gold());
                if (q.failed()) {
                    qo.put("error", q.error());
                    continue;
                }
                qo.put("correct_samples", q.correctSamples());
                sample(qo.putObject("greedy"), q.greedy());
                ArrayNode samples = qo.putArray("samples");
                for (SampleResult s : q.samples()) sample(samples.addObject(), s);
            }
        }
        score(root.putObject("overall"), overall);
        ObjectNode timing = root.putObject("timing");
        timing.put("wall_seconds", wallSeconds);
        timing.put("questions_per_second", wallSeconds > 0 ? overall.questions() / wallSeconds : 0);
        return root;
    }

    private static void score(ObjectNode o, Score s) {
        o.put("questions", s.questions());
        o.put("failed_questions", s.failed());
        o.put("greedy_correct", s.greedyCorrect());
        putNumber(o, "greedy_accuracy", s.greedyAccuracy());
        ObjectNode pass = o.putObject("pass_at_k");
        for (Map.Entry<Integer, Double> e : s.passAtK().entrySet()) putNumber(pass, Integer.toString(e.getKey()), e.getValue());
        putNumber(o, "entropy", s.entropy());
        o.put("samples", s.samples());
        o.put("sample_tokens", s.sampleTokens());
    }

    private static void sample(ObjectNode o, SampleResult s) {
        o.put("text", s.text());
        o.put("correct", s.correct());
        o.put("tokens", s.tokens());
        putNumber(o, "mean_entropy", s.meanEntropy());
    }

    /** JSON has no NaN: an undefined metric (no questions, no tokens) is null. */
    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }

    /** Writes {@link #toJson} to {@code file} atomically: a temporary sibling renamed over it when complete. */
    public void writeJson(Path file) throws IOException {
        AtomicFiles.writeString(file, JSON.writeValueAsString(toJson()).concat("\n"));
    }
}
