package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The numbers the report takes from one {@code linchpin eval} JSON file ({@code eval/<model>.json}, the
 * format of {@link dev.linchpin.eval.EvalReport#toJson}): per data set and overall, greedy accuracy,
 * pass@k and mean entropy, plus the evaluation's wall time. The per-question {@code detail} is not read.
 *
 * @param model       "base" or the objective name (from the file name)
 * @param datasets    the data sets in file order
 * @param overall     the micro-average over all questions
 * @param ks          the k of pass@k, ascending
 * @param wallSeconds the evaluation's wall time ({@code timing.wall_seconds}), null if absent
 */
public record EvalSummary(String model, List<DatasetScore> datasets, DatasetScore overall, List<Integer> ks, Double wallSeconds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public EvalSummary {
        datasets = List.copyOf(datasets);
        ks = List.copyOf(ks);
    }

    /**
     * The scores of one data set; a metric that is undefined (null in the JSON: no questions or no
     * sampled tokens) is null here.
     *
     * @param name           data set name ("test", "harder", or "overall")
     * @param questions      number of questions
     * @param greedyAccuracy fraction of questions whose greedy response is correct
     * @param passAtK        k → pass@k (fraction), ascending k
     * @param entropy        mean next-token entropy of the samples, nats
     */
    public record DatasetScore(String name, int questions, Double greedyAccuracy, Map<Integer, Double> passAtK, Double entropy) {
        public DatasetScore {
            passAtK = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(passAtK));
        }
    }

    /** Reads {@code file}; anything that is not the eval JSON format is a {@link ReportInputException} naming the file and field. */
    public static EvalSummary read(Path file, String model) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ReportInputException(file, 0, "not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ReportInputException(file, "not an eval report (expected a JSON object)");
        JsonNode sets = root.get("datasets");
        if (sets == null || !sets.isArray()) throw new ReportInputException(file, "'datasets' is missing or not an array");
        List<DatasetScore> datasets = new ArrayList<>();
        for (int i = 0; i < sets.size(); i++) {
            JsonNode d = sets.get(i);
            String where = "datasets[" + i + "]";
            JsonNode name = d.get("name");
            if (name == null || !name.isTextual() || name.asText().isEmpty()) throw new ReportInputException(file, where + ".name is missing or not a string");
            datasets.add(score(file, where, name.asText(), d));
        }
        JsonNode overall = root.get("overall");
        if (overall == null || !overall.isObject()) throw new ReportInputException(file, "'overall' is missing or not an object");
        DatasetScore all = score(file, "overall", "overall", overall);
        List<Integer> ks = new ArrayList<>(all.passAtK().keySet());
        JsonNode settingsKs = root.path("settings").path("ks");
        if (settingsKs.isArray()) {
            ks.clear();
            for (JsonNode k : settingsKs) {
                if (!k.isInt() || k.asInt() < 1) throw new ReportInputException(file, "settings.ks holds " + k + ", not a positive integer");
                ks.add(k.asInt());
            }
            ks.sort(null);
        }
        Double wall = optionalNumber(file, "timing.wall_seconds", root.path("timing").get("wall_seconds"));
        return new EvalSummary(model, datasets, all, ks, wall);
    }

    /** The scores of data set {@code name}, or null if this evaluation has no such data set. */
    public DatasetScore dataset(String name) {
        if ("overall".equals(name)) return overall;
        for (DatasetScore d : datasets) if (d.name().equals(name)) return d;
        return null;
    }

    private static DatasetScore score(Path file, String where, String name, JsonNode d) throws ReportInputException {
        JsonNode q = d.get("questions");
        if (q == null || !q.isInt() || q.asInt() < 0) throw new ReportInputException(file, where + ".questions is missing or not a non-negative integer");
        Double greedy = fraction(file, where + ".greedy_accuracy", d.get("greedy_accuracy"));
        JsonNode pass = d.get("pass_at_k");
        if (pass == null || !pass.isObject()) throw new ReportInputException(file, where + ".pass_at_k is missing or not an object");
        Map<Integer, Double> passAtK = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = pass.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int k;
            try {
                k = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new ReportInputException(file, where + ".pass_at_k has key '" + e.getKey() + "', not an integer k");
            }
            if (k < 1) throw new ReportInputException(file, where + ".pass_at_k has k = " + k + " < 1");
            passAtK.put(k, fraction(file, where + ".pass_at_k." + k, e.getValue()));
        }
        Double entropy = optionalNumber(file, where + ".entropy", d.get("entropy"));
        if (entropy != null && entropy < 0) throw new ReportInputException(file, where + ".entropy is negative: " + entropy);
        return new DatasetScore(name, q.asInt(), greedy, passAtK, entropy);
    }

    private static Double fraction(Path file, String where, JsonNode v) throws ReportInputException {
        Double x = optionalNumber(file, where, v);
        if (x != null && (x < 0 || x > 1)) throw new ReportInputException(file, where + " = " + x + " is not a fraction in [0, 1]");
        return x;
    }

    /** A finite number, or null for an absent/null field; anything else is an error naming the field. */
    private static Double optionalNumber(Path file, String where, JsonNode v) throws ReportInputException {
        if (v == null || v.isNull() || v.isMissingNode()) return null;
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw new ReportInputException(file, where + " is not a finite number: " + v);
        return v.asDouble();
    }
}
