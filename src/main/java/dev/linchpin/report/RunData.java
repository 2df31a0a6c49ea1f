package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.rundir.RunLayout;
import dev.linchpin.rundir.RunManifest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Everything the report reads from a run directory, loaded through {@link RunLayout}. An unfinished run
 * is fine: every absent piece is left out and named in {@link #missing}. A piece that is present but
 * malformed is an error ({@link ReportInputException} naming the file).
 *
 * @param layout        the run directory
 * @param manifest      {@code demo.json}, null if absent
 * @param objectives    the objectives in report order (the manifest's, or found under train/ and eval/)
 * @param masks         statistics of {@code masks.jsonl}, null if absent
 * @param masksSummary  the mining summary JSON, null if absent
 * @param metrics       objective → its training metrics (only those present)
 * @param evals         model ("base" or an objective) → its evaluation (only those present)
 * @param missing       what is absent, one human-readable line each
 * @param notes         other facts about the inputs (an incomplete last line ignored, …)
 */
public record RunData(RunLayout layout, RunManifest manifest, List<String> objectives, MaskStats masks, JsonNode masksSummary,
        Map<String, TrainMetrics> metrics, Map<String, EvalSummary> evals, List<String> missing, List<String> notes) {
    /** Kept examples shown whole on the page. */
    public static final int SHOWN_EXAMPLES = 3;
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,63}");

    /** Loads {@code layout}'s run directory. */
    public static RunData load(RunLayout layout) throws IOException {
        if (!Files.isDirectory(layout.root())) throw new java.nio.file.NoSuchFileException(layout.root() + " (not a run directory)");
        List<String> missing = new ArrayList<>(), notes = new ArrayList<>();
        RunManifest manifest = null;
        List<String> objectives;
        if (Files.exists(layout.manifest())) {
            manifest = RunManifest.read(layout.manifest());
            objectives = manifest.objectives();
            for (String o : objectives) {
                if (!NAME.matcher(o).matches()) throw new ReportInputException(layout.manifest(), "objective name '" + o + "' is not a plain lower-case word");
            }
            if (manifest.finishedAt() == null) notes.add("the run has not finished (demo.json has no finished_at): this report shows the stages done so far");
        } else {
            missing.add("demo.json (the run manifest): no stage wall times or settings; objectives found from train/ and eval/");
            objectives = discoverObjectives(layout);
        }

        MaskStats masks = null;
        if (Files.exists(layout.masks())) {
            masks = MaskStats.read(layout.masks(), SHOWN_EXAMPLES);
            if (masks.truncatedTail()) notes.add("masks.jsonl ends in an incomplete line (mining running or interrupted); it was ignored");
        } else {
            missing.add("masks.jsonl (mining has not run): no critical fraction, histogram or examples");
        }
        JsonNode summary = null;
        if (Files.exists(layout.masksSummary())) {
            try {
                summary = new ObjectMapper().readTree(layout.masksSummary().toFile());
            } catch (IOException e) {
                throw new ReportInputException(layout.masksSummary(), 0, "not valid JSON: " + e.getMessage(), e);
            }
            if (summary == null || !summary.isObject()) throw new ReportInputException(layout.masksSummary(), "not a mining summary (expected a JSON object)");
        } else {
            missing.add("masks.jsonl.summary.json (the mining summary)");
        }

        Map<String, TrainMetrics> metrics = new LinkedHashMap<>();
        for (String o : objectives) {
            Path f = layout.metrics(o);
            if (!Files.exists(f)) {
                missing.add("train/" + o + "/metrics.jsonl (" + o + " not trained yet): no loss curve or trained-token fraction");
                continue;
            }
            TrainMetrics m = TrainMetrics.read(f, o);
            if (m.truncatedTail()) notes.add("train/" + o + "/metrics.jsonl ends in an incomplete line; it was ignored");
            metrics.put(o, m);
        }
        Map<String, EvalSummary> evals = new LinkedHashMap<>();
        List<String> models = new ArrayList<>();
        models.add("base");
        models.addAll(objectives);
        for (String m : models) {
            Path f = layout.eval(m);
            if (!Files.exists(f)) {
                missing.add("eval/" + m + ".json (" + m + " not evaluated yet)");
                continue;
            }
            evals.put(m, EvalSummary.read(f, m));
        }
        return new RunData(layout, manifest, List.copyOf(objectives), masks, summary, metrics, evals, missing, notes);
    }

    /** The models of the results table: "base", then the objectives. */
    public List<String> models() {
        List<String> m = new ArrayList<>();
        m.add("base");
        m.addAll(objectives);
        return m;
    }

    /** Without a manifest: objective names under train/ and eval/ (other than "base"), sorted. */
    private static List<String> discoverObjectives(RunLayout layout) throws IOException {
        TreeSet<String> found = new TreeSet<>();
        Path train = layout.root().resolve("train");
        if (Files.isDirectory(train)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(train, Files::isDirectory)) {
                for (Path p : ds) if (NAME.matcher(p.getFileName().toString()).matches()) found.add(p.getFileName().toString());
            }
        }
        Path eval = layout.root().resolve("eval");
        if (Files.isDirectory(eval)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(eval, "*.json")) {
                for (Path p : ds) {
                    String n = p.getFileName().toString();
                    n = n.substring(0, n.length() - ".json".length());
                    if (NAME.matcher(n).matches() && !n.equals("base")) found.add(n);
                }
            }
        }
        return new ArrayList<>(found);
    }
}
