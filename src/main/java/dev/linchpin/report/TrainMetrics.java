package dev.linchpin.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One objective's {@code metrics.jsonl} (written by {@link dev.linchpin.train.FineTuner}: one line per
 * optimizer step with step, stage, loss, lr, grad_norm, tokens_per_s, trained_token_fraction).
 *
 * @param objective     the objective
 * @param steps         the steps in file order
 * @param truncatedTail whether an incomplete last line (training still running, or killed) was ignored
 */
public record TrainMetrics(String objective, List<Step> steps, boolean truncatedTail) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public TrainMetrics {
        steps = List.copyOf(steps);
    }

    /** One optimizer step. */
    public record Step(int step, String stage, double loss, double lr, double gradNorm, double tokensPerS,
            double trainedTokenFraction) {}

    /**
     * Reads {@code file}. A malformed line followed by more lines is an error naming the file and line; a
     * malformed last line is the torn tail of a running or killed trainer and is ignored.
     */
    public static TrainMetrics read(Path file, String objective) throws IOException {
        List<Step> steps = new ArrayList<>();
        boolean truncated = false;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                try {
                    steps.add(parse(line));
                } catch (IOException | IllegalArgumentException e) {
                    if (in.ready()) throw new ReportInputException(file, number, "not a metrics line: " + e.getMessage(), e);
                    truncated = true;
                }
            }
        }
        return new TrainMetrics(objective, steps, truncated);
    }

    private static Step parse(String line) throws IOException {
        JsonNode o = JSON.readTree(line);
        if (o == null || !o.isObject()) throw new IllegalArgumentException("expected a JSON object");
        JsonNode step = o.get("step");
        if (step == null || !step.isInt() || step.asInt() < 1) throw new IllegalArgumentException("'step' is missing or not a positive integer");
        JsonNode stage = o.get("stage");
        return new Step(step.asInt(), stage != null && stage.isTextual() ? stage.asText() : "",
                number(o, "loss"), number(o, "lr"), number(o, "grad_norm"), number(o, "tokens_per_s"),
                number(o, "trained_token_fraction"));
    }

    private static double number(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || !v.isNumber() || !Double.isFinite(v.asDouble())) throw new IllegalArgumentException("'" + key + "' is missing or not a finite number");
        return v.asDouble();
    }

    /** Mean over steps of the per-step trained-token fraction (null when there are no steps). */
    public Double meanTrainedTokenFraction() {
        if (steps.isEmpty()) return null;
        double sum = 0;
        for (Step s : steps) sum += s.trainedTokenFraction();
        return sum / steps.size();
    }

    /**
     * The steps of one training stage (consecutive lines with the same {@code stage}; SFTKey has two).
     *
     * @param stage                    the stage name
     * @param steps                    its steps
     * @param meanTrainedTokenFraction mean over its steps of trained_token_fraction
     * @param meanTokensPerS           mean over its steps of tokens_per_s
     * @param finalLoss                its last step's loss
     */
    public record StageSummary(String stage, int steps, double meanTrainedTokenFraction, double meanTokensPerS, double finalLoss) {}

    /** One summary per run of consecutive steps with the same stage name, in order. */
    public List<StageSummary> stageSummaries() {
        List<StageSummary> out = new ArrayList<>();
        int from = 0;
        for (int i = 1; i <= steps.size(); i++) {
            if (i == steps.size() || !steps.get(i).stage().equals(steps.get(from).stage())) {
                double frac = 0, tps = 0;
                for (int j = from; j < i; j++) {
                    frac += steps.get(j).trainedTokenFraction();
                    tps += steps.get(j).tokensPerS();
                }
                int n = i - from;
                out.add(new StageSummary(steps.get(from).stage(), n, frac / n, tps / n, steps.get(i - 1).loss()));
                from = i;
            }
        }
        return out;
    }

    /** The last step's loss (null when there are no steps). */
    public Double finalLoss() {
        return steps.isEmpty() ? null : steps.get(steps.size() - 1).loss();
    }
}
