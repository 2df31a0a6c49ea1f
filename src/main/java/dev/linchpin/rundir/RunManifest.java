package dev.linchpin.rundir;

import dev.linchpin.io.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code demo.json}: what a demo run did, in order, and how long each stage took. Written by the demo
 * after every stage (atomically), so an interrupted run shows what finished; read by the report.
 *
 * @param version     format version ({@link #VERSION})
 * @param name        the run's name (its directory name)
 * @param quick       whether {@code --quick} sizes were used
 * @param baseModel   the base model directory every objective starts from
 * @param objectives  the objectives trained, in report order
 * @param settings    the settings shared by every objective (steps, batch size, lr, eval n, …) — the
 *                    "same budget" — as display strings
 * @param stages      the stages finished so far, in order
 * @param startedAt   ISO-8601 instant the run started
 * @param finishedAt  ISO-8601 instant the last stage finished (null while running)
 * @param environment machine facts for the report (JVM, OS, cores, threads)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunManifest(int version, String name, boolean quick, String baseModel, List<String> objectives,
        Map<String, String> settings, List<Stage> stages, String startedAt, String finishedAt,
        Map<String, String> environment) {
    public static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public RunManifest {
        objectives = List.copyOf(objectives);
        settings = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(settings));   // stable order in demo.json
        stages = List.copyOf(stages);
        environment = environment == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(environment));
    }

    /**
     * One finished stage.
     *
     * @param name      "base", "mine", "train", "eval" or "report"
     * @param model     the objective or model the stage was for ("base", "cft", …), null for mine/report
     * @param seconds   wall time
     * @param output    the stage's main output, relative to the run directory
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Stage(String name, String model, double seconds, String output) {}

    /** A copy with {@code stage} appended. */
    public RunManifest withStage(Stage stage) {
        var all = new java.util.ArrayList<>(stages);
        all.add(stage);
        return new RunManifest(version, name, quick, baseModel, objectives, settings, all, startedAt, finishedAt, environment);
    }

    public RunManifest finished(String instant) {
        return new RunManifest(version, name, quick, baseModel, objectives, settings, stages, startedAt, instant, environment);
    }

    /** Reads {@code file}; a missing or malformed manifest is an IOException naming the file. */
    public static RunManifest read(Path file) throws IOException {
        RunManifest m;
        try {
            m = JSON.readValue(file.toFile(), RunManifest.class);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": not a demo manifest: " + e.getMessage(), e);
        }
        if (m.version() != VERSION) throw new IOException(file + ": manifest version " + m.version() + ", expected " + VERSION);
        return m;
    }

    /** Writes to a temporary file beside {@code file} and renames it over, so readers never see half. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, JSON.writeValueAsString(this));
    }
}
