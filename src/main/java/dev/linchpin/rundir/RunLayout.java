package dev.linchpin.rundir;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where a demo run keeps its files: the one contract between {@code linchpin demo}, which writes
 * them, and the report, which reads them. All paths are under the run directory
 * ({@code runs/<name>/} by default):
 *
 * <pre>
 * demo.json                         the manifest ({@link RunManifest}): settings, stages, wall times
 * masks.jsonl                       mined masks ({@code linchpin mine} format, one record per example)
 * masks.jsonl.summary.json          the mining summary
 * data/{mine,val,test,ood}.jsonl    the target questions: mined, validation, test, OOD
 * entropy-masks.jsonl               the entropy objective's positions (masks format, critical = top entropy)
 * entropy-overlap.json              how the critical and the top-entropy positions overlap
 * lr/&lt;i&gt;/, lr/&lt;i&gt;.json             SFT with the i-th learning-rate candidate and its validation eval
 * lr.json                           the learning-rate choice (candidates, validation accuracy, chosen)
 * train/&lt;model&gt;/metrics.jsonl       one line per optimizer step (loss, lr, grad norm, tokens/s, fraction)
 * train/&lt;model&gt;/final/              the trained model in Hugging Face layout
 * eval/&lt;model&gt;.json                 {@code linchpin eval} JSON for "base" and each trained model
 * </pre>
 * A trained model is named {@code <objective>-s<seed>} ({@code cft-s0}); a run made before seeds has
 * one model per objective, named by the objective alone.
 * <pre>
 * report.json, report.html          the report
 * </pre>
 */
public record RunLayout(Path root) {
    /** Objective and model names become path segments: plain lower-case words only. */
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,63}");

    public RunLayout {
        root = root.toAbsolutePath().normalize();
    }

    public Path manifest() {
        return root.resolve("demo.json");
    }

    public Path masks() {
        return root.resolve("masks.jsonl");
    }

    public Path masksSummary() {
        return root.resolve("masks.jsonl.summary.json");
    }

    public Path entropyMasks() {
        return root.resolve("entropy-masks.jsonl");
    }

    public Path entropyOverlap() {
        return root.resolve("entropy-overlap.json");
    }

    public Path data(String split) {
        return root.resolve("data").resolve(checked(split) + ".jsonl");
    }

    public Path lrChoice() {
        return root.resolve("lr.json");
    }

    /** The SFT training with the {@code i}-th learning-rate candidate. */
    public Path lrTrainDir(int i) {
        return root.resolve("lr").resolve(Integer.toString(i));
    }

    /** Its evaluation on the validation split. */
    public Path lrEval(int i) {
        return root.resolve("lr").resolve(i + ".json");
    }

    public Path trainDir(String objective) {
        return root.resolve("train").resolve(checked(objective));
    }

    public Path metrics(String objective) {
        return trainDir(objective).resolve("metrics.jsonl");
    }

    public Path trainedModel(String objective) {
        return trainDir(objective).resolve("final");
    }

    /** The evaluation of {@code model}: "base" or an objective name. */
    public Path eval(String model) {
        return root.resolve("eval").resolve(checked(model) + ".json");
    }

    public Path reportJson() {
        return root.resolve("report.json");
    }

    public Path reportHtml() {
        return root.resolve("report.html");
    }

    private static String checked(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a valid objective/model name for a run directory: " + name);
        }
        return name;
    }
}
