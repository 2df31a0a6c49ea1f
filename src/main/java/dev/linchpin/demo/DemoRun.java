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
import dev.linchpin.train.MaskRecords;
import dev.linchpin.train.TrainingRun;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
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
 * {@code linchpin demo}: the whole experiment of {@link DemoPlan}, in-process, into one run directory
 * ({@link RunLayout}):
 * <ol>
 *   <li>base: the embedded default ({@link DemoPlan#base()}), trained or found in the cache;</li>
 *   <li>data: the target questions ({@link DemoData}): mined, validation, test, OOD, none seen by the base;</li>
 *   <li>mine: critical-token masks of the mined questions (k = 2, greedy) into {@code masks.jsonl};</li>
 *   <li>side by side ({@link Lanes}): the entropy selection (the base's top-entropy positions at CFT's density,
 *       {@link EntropyMasks}); the evaluation of the base on the test and OOD splits into {@code eval/base.json};
 *       and lr: SFT (seed 0) with each learning-rate candidate, greedy accuracy on the validation split, the choice
 *       into {@code lr.json}. The chosen candidate's run is exactly the training of {@code sft-s0} and becomes it;</li>
 *   <li>seed by seed, every objective in {@link DemoPlan#TRAINING_ORDER}: train from the same base, with the same
 *       budget and learning rate and the same examples (D_correct: {@link TrainingRun.Responses#MINED}), into
 *       {@code train/<objective>-s<seed>/}, then eval into {@code eval/<objective>-s<seed>.json}; two models at a
 *       time ({@link Lanes}), each with half the threads;</li>
 *   <li>report: {@link #writeReport}.</li>
 * </ol>
 * After every stage {@code demo.json} ({@link RunManifest}) is rewritten atomically with the stage and its
 * wall time. Running again into the same directory resumes: a stage recorded there whose output is
 * present is skipped, mining continues through its masks file, and an interrupted training continues from
 * its latest checkpoint; a stage whose inputs were made again in this invocation runs again. A directory
 * made with other settings is refused (a new {@code --name} starts over).
 */
public final class DemoRun {
    private static final long KV_BUDGET_BYTES = 2048L << 20;
    /** Whether a stage other than the report ran in this invocation (then the report is rebuilt). */
    private boolean ranThisInvocation;

    private final DemoPlan plan;
    private final String name;
    private final RunLayout layout;
    private final int threads;
    /** Threads of one job when the lanes run jobs side by side. */
    private final int jobThreads;
    private final PrintWriter out;
    /** The caller's listener, one call at a time across the lanes. */
    private final ProgressListener progress;
    private final Lanes lanes;
    private RunManifest manifest;
    private int stageNumber;
    /** Each begun stage's number, for its "finished" line (with lanes, stages finish out of order). */
    private final Map<String, Integer> stageNumbers = new java.util.HashMap<>();
    /** What this invocation (re)computed, so that stages downstream of it are not skipped as done. */
    private final java.util.Set<String> retrained = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean minedAgain, lrAgain;
    /** Models the lr stage trained in this invocation ({@link #adoptAsSftSeed0}). */
    private final java.util.Set<String> adopted = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

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
        this.lanes = new Lanes(Lanes.forThreads(threads), Objects.requireNonNull(progress, "progress"), out);
        this.progress = lanes.progress();
        this.jobThreads = Math.max(1, threads / lanes.lanes());
    }

    /** The run directory. */
    public RunLayout layout() {
        return layout;
    }

    /** Number of stages a run has: base, data, mine, entropy, lr, one training and one evaluation per trained model, base eval, report. */
    public int stageCount() {
        return 5 + 2 * DemoPlan.OBJECTIVES.size() * plan.seeds() + 1 + 1;
    }

    /** The trained models' names in report order: each objective with each seed. */
    public List<String> models() {
        List<String> out = new ArrayList<>();
        for (DemoObjective o : DemoPlan.OBJECTIVES) for (long seed : plan.seedList()) out.add(o.model(seed));
        return out;
    }

    /** Runs (or resumes) every stage; returns the final manifest. */
    public RunManifest run() throws IOException {
        long start = System.nanoTime();
        manifest = openManifest();
        Path base = baseStage();
        dataStage(base);
        mineStage(base);
        int steps = plan.steps(MaskRecords.readKept(layout.masks()).size());
        double lr = lrEntropyAndBaseEval(base, steps);
        // Seed by seed, each model evaluated right after its training: a run stopped early has every objective
        // with the seeds done so far, rather than every seed of the first objectives only. The lanes run two
        // such jobs side by side (Lanes).
        List<Lanes.Job> jobs = new ArrayList<>();
        for (long seed : plan.seedList()) {
            for (DemoObjective objective : DemoPlan.TRAINING_ORDER) {
                String model = objective.model(seed);
                jobs.add(new Lanes.Job(model, (p, o) -> {
                    trainStage(base, objective, seed, steps, lr, p);
                    evalStage(model, layout.trainedModel(model), p, o);
                }));
            }
        }
        lanes.run(jobs);
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
            List<String> differences = differences(old, plan.quick(), models(), settings);
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
        RunManifest m = new RunManifest(RunManifest.VERSION, name, plan.quick(), baseDir.toString(), models(),
                settings, List.of(), Instant.now().toString(), null, environment());
        m.write(layout.manifest());
        progress.message("demo: new run in " + root + (plan.quick() ? " (--quick sizes)" : ""));
        return m;
    }

    /** What differs between a recorded run and these settings, as "key: there X, now Y". */
    static List<String> differences(RunManifest old, boolean quick, List<String> models, Map<String, String> settings) {
        List<String> d = new ArrayList<>();
        if (old.quick() != quick) d.add(old.quick() ? "made with --quick, now without" : "made without --quick, now with it");
        if (!old.objectives().equals(models)) d.add("trained models: there " + old.objectives() + ", now " + models);
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
    private synchronized boolean begin(String stage, String model, boolean force) {
        stageNumber++;
        stageNumbers.put(stage + ":" + model, stageNumber);
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
    private synchronized void finish(String stage, String model, long startNanos, String output) throws IOException {
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
        progress.message(String.format(Locale.ROOT, "demo [%d/%d] %s: finished in %s", stageNumbers.getOrDefault(stage + ":" + model, stageNumber),
                stageCount(), label(stage, model),
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

    /** The target questions ({@link DemoData}); deterministic, so a re-run writes the same bytes. */
    private void dataStage(Path base) throws IOException {
        if (begin("data", null)) return;
        long t0 = System.nanoTime();
        DemoData.Written w = DemoData.write(plan, base, layout.root());
        progress.message(String.format(Locale.ROOT, "data: %d mined, %d validation, %d test (%s), %d OOD questions; %d generated "
                + "questions dropped because the base's data has them", plan.mineQuestions(), plan.valQuestions(), plan.testQuestions(),
                plan.settings().get("data.target_difficulty"), plan.oodQuestions(), w.droppedAsSeenByBase()));
        finish("data", null, t0, relative(layout.data("test")));
    }

    private void mineStage(Path base) throws IOException {
        if (begin("mine", null)) return;
        minedAgain = true;
        long t0 = System.nanoTime();
        MiningRun.run(new MiningRun.Settings(base, layout.data("mine"), layout.masks(), DatasetFormat.AUTO, PromptEncoder.Style.AUTO, null,
                null, Shard.ALL, plan.miningOptions(), KV_BUDGET_BYTES, threads), progress);
        if (!Files.isRegularFile(MiningSummary.pathFor(layout.masks()))) throw new IOException(layout.masksSummary() + " was not written");
        finish("mine", null, t0, relative(layout.masks()));
    }

    private void entropyStage(Path base, ProgressListener p) throws IOException {
        if (begin("entropy", null, minedAgain)) return;
        long t0 = System.nanoTime();
        EntropySelection.Overlap o = EntropyMasks.write(base, layout.data("mine"), layout.masks(), layout.entropyMasks(),
                layout.entropyOverlap(), jobThreads);
        p.message(String.format(Locale.ROOT, "entropy: %d responses; %.1f%% of the critical tokens are among the top-entropy ones "
                + "(%.1f%% by chance), Jaccard %.3f", o.responses(), 100 * o.criticalAlsoHighEntropy(), 100 * o.chanceFraction(), o.jaccard()));
        finish("entropy", null, t0, relative(layout.entropyMasks()));
    }

    /**
     * The learning rate every objective uses: the candidate with SFT's best validation accuracy (ties: the
     * smaller). The candidates' trainings, the entropy selection and the base's evaluation are independent
     * jobs, run in the lanes. The chosen candidate's run is SFT with seed 0 at the chosen rate, the very
     * training {@code sft-s0} would repeat (same settings and threads: the same weights, checked), so it
     * becomes {@code train/sft-s0}.
     */
    private double lrEntropyAndBaseEval(Path base, int steps) throws IOException {
        boolean lrDone = begin("lr", null, minedAgain);
        long t0 = System.nanoTime();
        int n = plan.lrCandidates().size();
        double[] accuracy = new double[n];
        long[] trainNanos = new long[n];
        List<Lanes.Job> jobs = new ArrayList<>();
        if (!lrDone) {
            lrAgain = true;
            for (int i = 0; i < n; i++) {
                int candidate = i;
                jobs.add(new Lanes.Job("lr " + plan.lrCandidates().get(i),
                        (p, o) -> accuracy[candidate] = lrCandidate(base, candidate, steps, trainNanos, p)));
            }
        }
        jobs.add(new Lanes.Job("entropy", (p, o) -> entropyStage(base, p)));
        jobs.add(new Lanes.Job("base", (p, o) -> evalStage("base", base, p, o)));
        lanes.run(jobs);
        if (!lrDone) {
            ObjectNode choice = json.createObjectNode();
            ArrayNode rows = choice.putArray("candidates");
            double best = Double.NaN, bestAcc = -1;
            int chosen = -1;
            for (int i = 0; i < n; i++) {
                double lr = plan.lrCandidates().get(i);
                ObjectNode row = rows.addObject();
                row.put("lr", lr);
                row.put("val_greedy_accuracy", accuracy[i]);
                if (accuracy[i] > bestAcc) {   // candidates ascend, so a tie keeps the smaller rate
                    bestAcc = accuracy[i];
                    best = lr;
                    chosen = i;
                }
            }
            choice.put("chosen", best);
            choice.put("steps", steps);
            choice.put("rule", plan.settings().get("train.lr_choice"));
            choice.put("sft_s0", "the chosen candidate's run, kept as train/" + DemoObjective.SFT.model(0));
            for (int i = 0; i < n; i++) if (i != chosen) deleteTree(layout.lrTrainDir(i).resolve("final"));   // only its score is needed
            AtomicFiles.writeString(layout.lrChoice(), json.writeValueAsString(choice) + "\n");
            finish("lr", null, t0, relative(layout.lrChoice()));
            if (chosen >= 0 && plan.seedList().contains(0L)) adoptAsSftSeed0(chosen, trainNanos[chosen]);
        }
        double lr = json.readTree(layout.lrChoice().toFile()).path("chosen").asDouble(Double.NaN);
        if (!(lr > 0)) throw new IOException(layout.lrChoice() + ": no chosen learning rate");
        return lr;
    }

    /**
     * SFT (seed 0) with candidate {@code i}'s learning rate; returns its greedy accuracy on the validation split
     * and puts its training time into {@code trainNanos[i]}.
     */
    private double lrCandidate(Path base, int i, int steps, long[] trainNanos, ProgressListener p) throws IOException {
        double lr = plan.lrCandidates().get(i);
        Path dir = layout.lrTrainDir(i);
        if (Files.exists(dir)) deleteTree(dir);
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        TrainingRun.run(trainSettings(base, DemoObjective.SFT, dir, steps, lr, 0, false), p);
        trainNanos[i] = System.nanoTime() - t0;
        Path evalJson = layout.lrEval(i);
        EvalRun.run(new EvalRun.Settings(dir.resolve("final"), List.of(layout.data("val")), evalJson, DatasetFormat.AUTO,
                PromptEncoder.Style.AUTO, null, null, plan.validationOptions(), KV_BUDGET_BYTES, jobThreads),
                new PrintWriter(java.io.OutputStream.nullOutputStream()), p);
        double acc = json.readTree(evalJson.toFile()).path("overall").path("greedy_accuracy").asDouble(Double.NaN);
        p.message(String.format(Locale.ROOT, "lr %s: validation greedy accuracy %.1f%%", lr, 100 * acc));
        return acc;
    }

    /** Moves the chosen candidate's run to {@code train/sft-s0} and records that training stage with its time. */
    private void adoptAsSftSeed0(int candidate, long trainNanos) throws IOException {
        String name = DemoObjective.SFT.model(0);
        begin("train", name, true);
        Path dir = layout.trainDir(name);
        if (Files.exists(dir)) deleteTree(dir);
        Files.createDirectories(dir.getParent());
        Files.move(layout.lrTrainDir(candidate), dir);
        progress.message("train " + name + ": the learning-rate stage's run at the chosen rate " + plan.lrCandidates().get(candidate)
                + " (the same training), moved from " + relative(layout.lrTrainDir(candidate)));
        adopted.add(name);
        retrained.add(name);
        finish("train", name, System.nanoTime() - trainNanos, relative(layout.trainedModel(name)));
    }

    private TrainingRun.Settings trainSettings(Path base, DemoObjective objective, Path dir, int steps, double lr, long seed, boolean resume) {
        return TrainingRun.Settings.builder(base, objective.objective(), dir)
                .data(layout.data("mine"), DatasetFormat.AUTO).prompts(PromptEncoder.Style.AUTO, null, null)
                .masks(objective.entropyMasks() ? layout.entropyMasks() : layout.masks()).responses(TrainingRun.Responses.MINED)
                .config(plan.fineTune(jobThreads, steps, lr, seed)).sftKeyStage1Steps(DemoPlan.sftKeyStage1(steps)).resume(resume).build();
    }

    private void trainStage(Path base, DemoObjective objective, long seed, int steps, double lr, ProgressListener p) throws IOException {
        String name = objective.model(seed);
        if (adopted.contains(name)) return;   // trained and recorded by the lr stage in this invocation
        // Masks mined or a learning rate chosen (again) in this invocation make every recorded training stale.
        boolean stale = minedAgain || lrAgain;
        if (begin("train", name, stale)) return;
        retrained.add(name);
        long t0 = System.nanoTime();
        Path dir = layout.trainDir(name);
        if (stale && Files.exists(dir)) deleteTree(dir);   // trained on other masks or lr: not a checkpoint to continue
        boolean resume = Files.isDirectory(dir) && Checkpoints.latest(dir) != null;
        if (resume) {
            p.message("train " + name + ": continuing from " + Checkpoints.latest(dir));
        } else if (Files.exists(dir)) {
            deleteTree(dir);   // an interrupted attempt without a checkpoint: start this objective over
        }
        Files.createDirectories(dir);
        TrainingRun.run(trainSettings(base, objective, dir, steps, lr, seed, resume), p);
        finish("train", name, t0, relative(layout.trainedModel(name)));
    }

    private void evalStage(String model, Path modelDir, ProgressListener p, PrintWriter o) throws IOException {
        // A model trained (again) in this invocation is evaluated again, whatever an earlier run recorded.
        if (begin("eval", model, retrained.contains(model))) return;
        long t0 = System.nanoTime();
        Path json = layout.eval(model);
        Files.createDirectories(json.getParent());
        o.println("eval " + model + ":");
        EvalRun.run(new EvalRun.Settings(modelDir, List.of(layout.data("test"), layout.data("ood")), json,
                DatasetFormat.AUTO, PromptEncoder.Style.AUTO, null, null, plan.evalOptions(), KV_BUDGET_BYTES, jobThreads), o, p);
        finish("eval", model, t0, relative(json));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }
}
