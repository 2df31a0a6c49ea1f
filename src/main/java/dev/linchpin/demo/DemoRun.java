package dev.linchpin.demo;

import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.eval.EvalRun;
import dev.linchpin.io.AtomicFiles;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.progress.Durations;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.report.Report;
import dev.linchpin.rundir.RunLayout;
import dev.linchpin.rundir.RunManifest;
import dev.linchpin.train.Checkpoints;
import dev.linchpin.train.Objective;
import dev.linchpin.train.TrainingRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code linchpin demo}: the whole pipeline on the embedded default, in-process, into one run directory
 * ({@link RunLayout}):
 * <ol>
 *   <li>base: the embedded default ({@link DemoPlan#base()}), trained or found in the cache;</li>
 *   <li>mine: critical-token masks of the first {@link DemoPlan#mineQuestions()} training questions
 *       (k = 2, greedy) into {@code masks.jsonl};</li>
 *   <li>train: every objective of {@link DemoPlan#OBJECTIVES} from the same base, with the same budget
 *       and the same examples (the kept records of the masks, D_correct: {@link TrainingRun.Responses#MINED}),
 *       into {@code train/<objective>/};</li>
 *   <li>eval: the base and every trained model on the default's test and OOD splits, into
 *       {@code eval/<model>.json};</li>
 *   <li>report: {@link #writeReport}.</li>
 * </ol>
 * After every stage {@code demo.json} ({@link RunManifest}) is rewritten atomically with the stage and its
 * wall time. Running again into the same directory resumes: a stage recorded there whose output is
 * present is skipped, mining continues through its masks file, and an interrupted training continues from
 * its latest checkpoint. A directory made with other settings is refused (a new {@code --name} starts over).
 */
public final class DemoRun {
    /** The mined questions: the first {@link DemoPlan#mineQuestions()} lines of the default's training split. */
    static final String MINED_QUESTIONS = "data/mined-questions.jsonl";
    private static final long KV_BUDGET_BYTES = 2048L << 20;
    /** Whether a stage other than the report ran in this invocation (then the report is rebuilt). */
    private boolean ranThisInvocation;

    private final DemoPlan plan;
    private final String name;
    private final RunLayout layout;
    private final int threads;
    private final PrintWriter out;
    private final ProgressListener progress;
    private RunManifest manifest;
    private int stageNumber;
    /** What this invocation (re)computed, so that stages downstream of it are not skipped as done. */
    private final java.util.Set<String> retrained = new java.util.HashSet<>();
    private boolean minedAgain;

    /**
     * @param plan     the sizes
     * @param name     the run's name (its directory under {@code outRoot})
     * @param outRoot  the directory runs are kept in ({@code runs/})
     * @param threads  engine and libtorch threads (>= 1)
     * @param out      results (the evaluation tables, the final line)
     * @param progress progress and stage lines
     */
    public DemoRun(DemoPlan plan, String name, Path outRoot, int threads, PrintWriter out, ProgressListener progress) {
        this.plan = Objects.requireNonNull(plan, "plan");
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("--name must be letters, digits, '.', '_' or '-' (at most 64), got '" + name + "'");
        }
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.name = name;
        this.layout = new RunLayout(outRoot.resolve(name));
        this.threads = threads;
        this.out = out;
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** The run directory. */
    public RunLayout layout() {
        return layout;
    }

    /** Number of stages a run has: base, mine, one training per objective, one evaluation per model, report. */
    public static int stageCount() {
        return 2 + 2 * DemoPlan.OBJECTIVES.size() + 1 + 1;
    }

    /** Runs (or resumes) every stage; returns the final manifest. */
    public RunManifest run() throws IOException {
        long start = System.nanoTime();
        manifest = openManifest();
        Path base = baseStage();
        mineStage(base);
        for (Objective objective : DemoPlan.OBJECTIVES) trainStage(base, objective);
        evalStage("base", base, base);
        for (Objective objective : DemoPlan.OBJECTIVES) {
            evalStage(objective.cliName(), layout.trainedModel(objective.cliName()), base);
        }
        manifest = manifest.finished(Instant.now().toString());
        manifest.write(layout.manifest());
        writeReport(layout);
        double total = 0;
        for (RunManifest.Stage s : manifest.stages()) total += s.seconds();
        out.printf(Locale.ROOT, "demo: %s finished: %d stages, %s of stage time (%s this invocation); manifest %s%n",
                layout.root(), manifest.stages().size(), Durations.format(total), Durations.format((System.nanoTime() - start) / 1e9),
                layout.manifest());
        out.flush();
        return manifest;
    }

    /**
     * The report (report.json + report.html, {@link Report}). Rebuilt whenever any stage ran in this
     * invocation (or the report is missing); skipped like the others when nothing changed. It is written
     * after the manifest is marked finished, so the page shows the finished run; its own wall time is
     * recorded in demo.json afterwards (the page's stage table ends with the last evaluation).
     */
    void writeReport(RunLayout layout) throws IOException {
        if (begin("report", null, ranThisInvocation)) return;
        long t = System.nanoTime();
        String finishedAt = manifest.finishedAt();
        Report.Written written = Report.write(layout.root());
        finish("report", null, t, relative(written.html()));
        manifest = manifest.finished(finishedAt);
        manifest.write(layout.manifest());
        if (!written.missing().isEmpty()) progress.message("report: missing " + String.join(", ", written.missing()));
        out.println("demo: report " + written.html());
        out.flush();
    }

    // ---- manifest and resume ------------------------------------------------------------------------

    /** A new manifest, or the existing one when it was made with the same settings. */
    private RunManifest openManifest() throws IOException {
        Path root = layout.root();
        Map<String, String> settings = plan.settings();
        Path baseDir = EmbeddedDefault.cacheRoot().resolve(plan.base().hash()).toAbsolutePath().normalize();
        if (Files.exists(layout.manifest())) {
            RunManifest old = RunManifest.read(layout.manifest());
            List<String> differences = differences(old, plan.quick(), settings);
            if (!differences.isEmpty()) {
                throw new IllegalArgumentException(root + " holds a demo run made with different settings ("
                        + String.join("; ", differences) + "); it cannot be resumed with these. Choose a new --name "
                        + "(or another --out) to start a new run, or run with the original options to resume it.");
            }
            progress.message("demo: resuming " + root + " (" + old.stages().size() + " of " + stageCount() + " stages recorded)");
            // The base model's directory depends on where the cache is; the settings (its hash) are what must match.
            return new RunManifest(old.version(), old.name(), old.quick(), baseDir.toString(), old.objectives(), old.settings(),
                    old.stages(), old.startedAt(), null, environment());
        }
        if (Files.isDirectory(root)) {
            try (var entries = Files.list(root)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(root + " exists, is not empty and has no demo.json: not a demo run to resume. "
                            + "Choose a new --name or another --out.");
                }
            }
        }
        RunManifest m = new RunManifest(RunManifest.VERSION, name, plan.quick(), baseDir.toString(), DemoPlan.objectiveNames(),
                settings, List.of(), Instant.now().toString(), null, environment());
        m.write(layout.manifest());
        progress.message("demo: new run in " + root + (plan.quick() ? " (--quick sizes)" : ""));
        return m;
    }

    /** What differs between a recorded run and these settings, as "key: there X, now Y". */
    static List<String> differences(RunManifest old, boolean quick, Map<String, String> settings) {
        List<String> d = new ArrayList<>();
        if (old.quick() != quick) d.add(old.quick() ? "made with --quick, now without" : "made without --quick, now with it");
        if (!old.objectives().equals(DemoPlan.objectiveNames())) {
            d.add("objectives: there " + old.objectives() + ", now " + DemoPlan.objectiveNames());
        }
        java.util.Set<String> keys = new java.util.TreeSet<>(settings.keySet());
        keys.addAll(old.settings().keySet());
        for (String k : keys) {
            String was = old.settings().get(k), now = settings.get(k);
            if (!Objects.equals(was, now)) d.add(k + ": there " + was + ", now " + now);
        }
        return d;
    }

    private static Map<String, String> environment() {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        e.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        e.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        String blas = System.getenv("OPENBLAS_NUM_THREADS");
        e.put("openblas_num_threads", blas == null ? "unset" : blas);
        return e;
    }

    /** The recorded stage, when its output is still there. */
    private RunManifest.Stage recorded(String stage, String model) {
        for (RunManifest.Stage s : manifest.stages()) {
            if (s.name().equals(stage) && Objects.equals(s.model(), model)) {
                Path output = s.output() == null ? null : layout.root().resolve(s.output());
                return output != null && Files.exists(output) ? s : null;
            }
        }
        return null;
    }

    /** Stage line before a stage; true when it is skipped (recorded with its output present). */
    private boolean begin(String stage, String model) {
        return begin(stage, model, false);
    }

    /** As {@link #begin(String, String)}; {@code force} runs the stage even when it is recorded. */
    private boolean begin(String stage, String model, boolean force) {
        stageNumber++;
        RunManifest.Stage done = force ? null : recorded(stage, model);
        String label = label(stage, model);
        if (done != null) {
            progress.message(String.format(Locale.ROOT, "demo [%d/%d] %s: done in an earlier run (%s), skipped",
                    stageNumber, stageCount(), label, Durations.format(done.seconds())));
            return true;
        }
        progress.message(String.format(Locale.ROOT, "demo [%d/%d] %s", stageNumber, stageCount(), label));
        return false;
    }

    /** Records a finished stage (replacing a stale record of it) and rewrites demo.json. */
    private void finish(String stage, String model, long startNanos, String output) throws IOException {
        if (!stage.equals("report")) ranThisInvocation = true;
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        List<RunManifest.Stage> kept = new ArrayList<>();
        for (RunManifest.Stage s : manifest.stages()) {
            if (!(s.name().equals(stage) && Objects.equals(s.model(), model))) kept.add(s);
        }
        manifest = new RunManifest(manifest.version(), manifest.name(), manifest.quick(), manifest.baseModel(), manifest.objectives(),
                manifest.settings(), kept, manifest.startedAt(), null, manifest.environment())
                .withStage(new RunManifest.Stage(stage, model, seconds, output));
        manifest.write(layout.manifest());
        progress.message(String.format(Locale.ROOT, "demo [%d/%d] %s: finished in %s", stageNumber, stageCount(), label(stage, model),
                Durations.format(seconds)));
    }

    private static String label(String stage, String model) {
        return model == null || stage.equals("base") ? stage : stage + " " + model;
    }

    private String relative(Path p) {
        return layout.root().relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }

    // ---- the stages ---------------------------------------------------------------------------------

    /** The base model; its output is recorded as an absolute path (it lives in the cache, not the run). */
    private Path baseStage() throws IOException {
        boolean skip = begin("base", "base");
        long t0 = System.nanoTime();
        EmbeddedDefault.Result r = EmbeddedDefault.ensureDetailed(plan.base(), progress, EmbeddedDefault.cacheRoot());
        Path dir = r.directory().toAbsolutePath().normalize();
        if (!skip || r.trained()) {   // trained again: the cache lost it since the recorded run
            if (skip) retrained.add("base");
            progress.message("base: " + (r.trained() ? "trained " : "found in the cache ") + dir + String.format(Locale.ROOT,
                    " (its own greedy accuracy: test %.1f%%, OOD %.1f%%)", 100 * r.training().path("test_accuracy").asDouble(),
                    100 * r.training().path("ood_accuracy").asDouble()));
            finish("base", "base", t0, dir.toString());
        }
        return dir;
    }

    private void mineStage(Path base) throws IOException {
        if (begin("mine", null)) return;
        minedAgain = true;
        long t0 = System.nanoTime();
        Path questions = writeMinedQuestions(base);
        MiningRun.run(new MiningRun.Settings(base, questions, layout.masks(), DatasetFormat.AUTO, PromptEncoder.Style.AUTO, null, null,
                Shard.ALL, plan.miningOptions(), KV_BUDGET_BYTES, threads), progress);
        if (!Files.isRegularFile(MiningSummary.pathFor(layout.masks()))) throw new IOException(layout.masksSummary() + " was not written");
        finish("mine", null, t0, relative(layout.masks()));
    }

    /** The first N lines of the default's training split, rewritten atomically (same bytes on every run). */
    private Path writeMinedQuestions(Path base) throws IOException {
        Path source = base.resolve("data/train.jsonl"), target = layout.root().resolve(MINED_QUESTIONS);
        List<String> lines = new ArrayList<>();
        try (var in = Files.newBufferedReader(source, StandardCharsets.UTF_8)) {
            for (String line; lines.size() < plan.mineQuestions() && (line = in.readLine()) != null;) if (!line.isBlank()) lines.add(line);
        }
        if (lines.size() < plan.mineQuestions()) {
            throw new IOException(source + ": " + lines.size() + " questions, the demo mines " + plan.mineQuestions());
        }
        AtomicFiles.writeString(target, String.join("\n", lines) + "\n");
        return target;
    }

    private void trainStage(Path base, Objective objective) throws IOException {
        String name = objective.cliName();
        // Masks mined (again) in this invocation make every recorded training stale.
        if (begin("train", name, minedAgain)) return;
        retrained.add(name);
        long t0 = System.nanoTime();
        Path dir = layout.trainDir(name);
        if (minedAgain && Files.exists(dir)) deleteTree(dir);   // trained on other masks: not a checkpoint to continue
        boolean resume = Files.isDirectory(dir) && Checkpoints.latest(dir) != null;
        if (resume) {
            progress.message("train " + name + ": continuing from " + Checkpoints.latest(dir));
        } else if (Files.exists(dir)) {
            deleteTree(dir);   // an interrupted attempt without a checkpoint: start this objective over
        }
        Files.createDirectories(dir);
        TrainingRun.run(TrainingRun.Settings.builder(base, objective, dir)
                .data(layout.root().resolve(MINED_QUESTIONS), DatasetFormat.AUTO).prompts(PromptEncoder.Style.AUTO, null, null)
                .masks(layout.masks()).responses(TrainingRun.Responses.MINED).config(plan.fineTune(threads))
                .sftKeyStage1Steps(plan.sftKeyStage1()).resume(resume).build(), progress);
        finish("train", name, t0, relative(layout.trainedModel(name)));
    }

    private void evalStage(String model, Path modelDir, Path base) throws IOException {
        // A model trained (again) in this invocation is evaluated again, whatever an earlier run recorded.
        if (begin("eval", model, retrained.contains(model))) return;
        long t0 = System.nanoTime();
        Path json = layout.eval(model);
        Files.createDirectories(json.getParent());
        out.println("eval " + model + ":");
        EvalRun.run(new EvalRun.Settings(modelDir, List.of(base.resolve("data/test.jsonl"), base.resolve("data/ood.jsonl")), json,
                DatasetFormat.AUTO, PromptEncoder.Style.AUTO, null, null, plan.evalOptions(), KV_BUDGET_BYTES, threads), out, progress);
        finish("eval", model, t0, relative(json));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }
}
