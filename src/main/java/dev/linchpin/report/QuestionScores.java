package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-question verdicts of one {@code linchpin eval} JSON file ({@code datasets[].detail}): per data set,
 * question id → greedy correct and the number of correct samples out of n. What the paired bootstrap
 * resamples. A question that could not be evaluated (it has an {@code error}) counts as wrong, greedy and
 * sampled, so that every model has a score for every question.
 *
 * @param byDataset data set → question id → its verdicts, in file order
 */
public record QuestionScores(Map<String, Map<String, Verdict>> byDataset) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One question: greedy correct, c correct of n samples. */
    public record Verdict(boolean greedy, int correct, int samples) {
        /** The unbiased pass@k estimate of this question; 0 when it has fewer than k samples (failed). */
        public double passAtK(int k) {
            if (samples < k) return 0;
            return dev.linchpin.eval.PassAtK.estimate(samples, correct, k);
        }
    }

    /** Reads {@code file}; a malformed detail is a {@link ReportInputException} naming the file. */
    public static QuestionScores read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ReportInputException(file, 0, "not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Map<String, Verdict>> out = new LinkedHashMap<>();
        JsonNode sets = root == null ? null : root.get("datasets");
        if (sets == null || !sets.isArray()) throw new ReportInputException(file, "'datasets' is missing or not an array");
        for (JsonNode d : sets) {
            String name = d.path("name").asText(null);
            JsonNode detail = d.get("detail");
            if (name == null || detail == null || !detail.isArray()) {
                throw new ReportInputException(file, "a data set without 'name' or per-question 'detail'");
            }
            Map<String, Verdict> q = new LinkedHashMap<>();
            for (JsonNode x : detail) {
                String id = x.path("id").asText(null);
                if (id == null) throw new ReportInputException(file, "a question of '" + name + "' has no id");
                if (x.has("error")) {
                    q.put(id, new Verdict(false, 0, 0));
                    continue;
                }
                JsonNode samples = x.get("samples");
                int n = samples == null || !samples.isArray() ? 0 : samples.size();
                int c = x.path("correct_samples").asInt(-1);
                if (c < 0 || c > n || !x.path("greedy").has("correct")) {
                    throw new ReportInputException(file, "question '" + id + "' of '" + name + "' has no valid greedy verdict or correct_samples");
                }
                q.put(id, new Verdict(x.path("greedy").path("correct").asBoolean(), c, n));
            }
            out.put(name, q);
        }
        return new QuestionScores(out);
    }
}
