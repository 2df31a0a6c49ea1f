package dev.linchpin.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.cli.Main;
import dev.linchpin.rundir.RunLayout;
import dev.linchpin.rundir.RunManifest;
import dev.linchpin.testing.ReferenceBatchOrder;
import dev.linchpin.train.Objectives;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code linchpin demo --quick} end to end through {@link Main}, into a temporary directory. The quick base
 * model is cached under {@code target/test-cache} (the {@code linchpin.cache} property), so only the first
 * run in a checkout trains it. Expectations come from the files read as plain JSON and recomputed here:
 * the critical fraction from the raw masks lines, each step's trained-token fraction from those counts and
 * the trainer's data order, greedy accuracy and pass@k from the per-question verdicts.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DemoQuickTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> OBJECTIVES = List.of("sft", "cft", "sftkey", "dft", "random", "entropy");
    /** Every objective with seeds 0 and 1 (the quick plan's two seeds). */
    static final List<String> TRAINED = OBJECTIVES.stream().flatMap(o -> java.util.stream.Stream.of(o + "-s0", o + "-s1")).toList();
    static final List<String> MODELS = java.util.stream.Stream.concat(java.util.stream.Stream.of("base"), TRAINED.stream()).toList();
    static final int STAGES = 5 + 2 * TRAINED.size() + 1 + 1;

    @TempDir
    static Path runs;
    static String cacheBefore;
    static RunLayout layout;
    static String firstLog;
    static double firstSeconds;

    @BeforeAll
    static void runQuickDemo() {
        cacheBefore = System.getProperty("linchpin.cache");
        System.setProperty("linchpin.cache", Path.of("target", "test-cache").toAbsolutePath().toString());
        long t0 = System.nanoTime();
        Result r = demo("--quick");
        firstSeconds = (System.nanoTime() - t0) / 1e9;
        firstLog = r.err;
        assertEquals(0, r.status, r.err);
        layout = new RunLayout(runs.resolve("quick"));
        System.out.printf("demo --quick: %.1f s%n", firstSeconds);
    }

    @AfterAll
    static void restoreCache() {
        if (cacheBefore == null) System.clearProperty("linchpin.cache");
        else System.setProperty("linchpin.cache", cacheBefore);
    }

    record Result(int status, String out, String err) {}

    static Result demo(String... more) {
        List<String> args = new ArrayList<>(List.of("demo", "--out", runs.toString(), "--threads", "2", "--progress", "log"));
        args.addAll(List.of(more));
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everyStageRanInOrderAndTheManifestSaysSo() throws IOException {
        RunManifest m = RunManifest.read(layout.manifest());
        assertEquals("quick", m.name());
        assertTrue(m.quick());
        assertEquals(TRAINED, m.objectives());
        assertEquals(2, DemoPlan.quickPlan().seeds());
        assertEquals(DemoPlan.quickPlan().settings(), m.settings());
        assertNotNull(m.finishedAt(), "a finished run has finishedAt");
        List<String> expected = new ArrayList<>(List.of("base:base", "data:null", "mine:null", "entropy:null", "lr:null"));
        expected.add("eval:base");
        for (String seed : List.of("-s0", "-s1")) {
            for (String o : List.of("sft", "cft", "entropy", "random", "dft", "sftkey")) {   // DemoPlan.TRAINING_ORDER
                expected.add("train:" + o + seed);
                expected.add("eval:" + o + seed);
            }
        }
        expected.add("report:null");
        List<String> actual = new ArrayList<>();
        for (RunManifest.Stage s : m.stages()) {
            actual.add(s.name() + ":" + s.model());
            assertTrue(s.seconds() > 0, s + " has a wall time");
            assertTrue(Files.exists(layout.root().resolve(s.output())), s + ": its output exists");
        }
        // Stages are recorded as they finish, and with --threads 2 two jobs run side by side: every stage once,
        // in an order that respects what each needs.
        assertEquals(expected.stream().sorted().toList(), actual.stream().sorted().toList(), "every stage once: " + actual);
        assertEquals(List.of("base:base", "data:null", "mine:null"), actual.subList(0, 3));
        assertEquals(java.util.Set.of("entropy:null", "eval:base"), java.util.Set.copyOf(actual.subList(3, 5)), "beside the lr candidates");
        assertEquals(List.of("lr:null", "train:sft-s0"), actual.subList(5, 7), "the chosen lr candidate's run is sft-s0's training");
        for (String model : TRAINED) {
            assertTrue(actual.indexOf("train:" + model) < actual.indexOf("eval:" + model), model + " trained before evaluated: " + actual);
        }
        assertEquals("report:null", actual.get(actual.size() - 1));
        assertTrue(firstLog.contains("train sft-s0: the learning-rate stage's run at the chosen rate"), firstLog);
        assertEquals(Path.of(m.baseModel()), Path.of(m.stages().get(0).output()));
        for (int i = 1; i <= expected.size(); i++) {
            assertTrue(firstLog.contains("demo [" + i + "/" + expected.size() + "] "), "a progress line for stage " + i + ":\n" + firstLog);
        }
    }

    @Test
    void theReportIsWrittenAndMissesNothing() throws IOException {
        JsonNode report = JSON.readTree(layout.reportJson().toFile());
        assertTrue(Files.size(layout.reportHtml()) > 10_000, "report.html has content");
        assertEquals(0, report.get("missing").size(), "a finished run's report lists nothing missing: " + report.get("missing"));
        List<String> plots = new ArrayList<>();
        report.get("plots").forEach(p -> plots.add(p.asText()));
        for (String id : List.of("plot-entropy", "plot-critical-histogram", "plot-loss")) assertTrue(plots.contains(id), id + " in " + plots);
        String html = Files.readString(layout.reportHtml());
        for (String o : TRAINED) assertTrue(html.contains(">" + o + "<"), "the page names " + o);
        assertTrue(html.indexOf("id=\"answer\"") < html.indexOf("id=\"results\""), "the page leads with the answer");
        assertTrue(plots.contains("plot-accuracy"), "the accuracy chart with intervals: " + plots);
        JsonNode x = report.get("experiment");
        for (String o : OBJECTIVES) assertEquals("[0,1]", x.get("objectives").get(o).get("seeds").toString(), o);
        assertEquals("[]", x.get("objectives").get("base").get("seeds").toString());
    }

    /**
     * The experiment's numbers, recomputed from the eval files' per-question verdicts: each objective's mean
     * and standard deviation over seeds, and the CFT − SFT / CFT − entropy point differences; every interval
     * contains its point estimate, and the page states each difference in words.
     */
    @Test
    void theExperimentsMeansAndDifferencesFollowFromTheVerdicts() throws IOException {
        JsonNode x = JSON.readTree(layout.reportJson().toFile()).get("experiment");
        String html = Files.readString(layout.reportHtml());
        for (String ds : List.of("test", "ood")) {
            java.util.Map<String, double[]> perSeed = new java.util.HashMap<>();
            for (String o : OBJECTIVES) {
                double[] acc = new double[2];
                for (int s = 0; s < 2; s++) acc[s] = greedy(o + "-s" + s, ds);
                perSeed.put(o, acc);
                JsonNode v = block(x, ds, "greedy").get("objectives").get(o);
                double mean = (acc[0] + acc[1]) / 2, std = Math.abs(acc[0] - acc[1]) / Math.sqrt(2);
                assertEquals(mean, v.get("mean").asDouble(), 1e-12, o + " " + ds);
                assertEquals(std, v.get("std_over_seeds").asDouble(), 1e-12, o + " " + ds);
                assertTrue(v.get("ci95_lo").asDouble() <= mean + 1e-12 && mean <= v.get("ci95_hi").asDouble() + 1e-12, o + " " + ds);
            }
            for (String[] pair : List.of(new String[] {"cft", "sft"}, new String[] {"cft", "entropy"})) {
                JsonNode d = difference(x, ds, "greedy", pair[0], pair[1]);
                double expected = (perSeed.get(pair[0])[0] + perSeed.get(pair[0])[1] - perSeed.get(pair[1])[0] - perSeed.get(pair[1])[1]) / 2;
                assertEquals(expected, d.get("mean").asDouble(), 1e-12, pair[0] + "-" + pair[1] + " " + ds);
                assertTrue(d.get("ci95_lo").asDouble() <= expected + 1e-12 && expected <= d.get("ci95_hi").asDouble() + 1e-12);
                assertTrue(html.contains(escape(d.get("sentence").asText())), "the page states: " + d.get("sentence").asText());
            }
            assertNotNull(difference(x, ds, "pass@4", "cft", "sft"), "pass@k is compared too");
        }
    }

    /** HTML text escaping as the page does it (the sentences contain no markup, only these characters matter). */
    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    private static double greedy(String model, String dataset) throws IOException {
        for (JsonNode d : JSON.readTree(layout.eval(model).toFile()).get("datasets")) {
            if (!d.get("name").asText().equals(dataset)) continue;
            int n = 0, c = 0;
            for (JsonNode q : d.get("detail")) {
                n++;
                if (q.get("greedy").get("correct").asBoolean()) c++;
            }
            return (double) c / n;
        }
        throw new AssertionError(model + " has no " + dataset);
    }

    private static JsonNode block(JsonNode x, String dataset, String metric) {
        for (JsonNode b : x.get("metrics")) if (b.get("dataset").asText().equals(dataset) && b.get("metric").asText().equals(metric)) return b;
        throw new AssertionError("no block " + dataset + " " + metric);
    }

    private static JsonNode difference(JsonNode x, String dataset, String metric, String a, String b) {
        for (JsonNode d : x.get("differences")) {
            if (d.get("dataset").asText().equals(dataset) && d.get("metric").asText().equals(metric) && d.get("a").asText().equals(a)
                    && d.get("b").asText().equals(b)) return d;
        }
        throw new AssertionError("no difference " + a + " - " + b + " on " + dataset + " " + metric);
    }

    /** The entropy masks keep CFT's count per response; the overlap JSON's counts follow from the two files' raw lines. */
    @Test
    void theEntropySelectionHasCftsDensityAndItsOverlapIsCounted() throws IOException {
        java.util.Map<String, JsonNode> cft = new java.util.HashMap<>();
        for (String line : lines(layout.masks())) {
            JsonNode r = JSON.readTree(line);
            if (r.get("kept").asBoolean()) cft.put(r.get("id").asText(), r);
        }
        long critical = 0, inter = 0, union = 0;
        int responses = 0;
        for (String line : lines(layout.entropyMasks())) {
            JsonNode e = JSON.readTree(line);
            JsonNode c = cft.get(e.get("id").asText());
            assertNotNull(c, e.get("id").asText());
            assertEquals(c.get("critical").size(), e.get("critical").size(), "CFT's density, response by response");
            assertEquals(c.get("response_ids"), e.get("response_ids"));
            java.util.Set<Integer> cs = new java.util.HashSet<>(), es = new java.util.HashSet<>();
            c.get("critical").forEach(t -> cs.add(t.asInt()));
            e.get("critical").forEach(t -> es.add(t.asInt()));
            critical += cs.size();
            java.util.Set<Integer> both = new java.util.HashSet<>(cs);
            both.retainAll(es);
            inter += both.size();
            es.addAll(cs);
            union += es.size();
            responses++;
        }
        assertEquals(cft.size(), responses, "one entropy record per kept record");
        JsonNode o = JSON.readTree(layout.entropyOverlap().toFile());
        assertEquals(critical, o.get("critical_tokens").asLong());
        assertEquals(inter, o.get("intersection").asLong());
        assertEquals(union, o.get("union").asLong());
        assertEquals(union == 0 ? 1 : (double) inter / union, o.get("jaccard").asDouble(), 1e-12);
    }

    /** The learning rate used is the candidate with SFT's best validation greedy accuracy, recomputed from lr/<i>.json. */
    @Test
    void theLearningRateIsChosenOnTheValidationSplit() throws IOException {
        DemoPlan plan = DemoPlan.quickPlan();
        JsonNode choice = JSON.readTree(layout.lrChoice().toFile());
        double best = -1, chosen = Double.NaN;
        for (int i = 0; i < plan.lrCandidates().size(); i++) {
            JsonNode d = JSON.readTree(layout.lrEval(i).toFile()).get("datasets").get(0);
            assertEquals("val", d.get("name").asText());
            int n = 0, c = 0;
            for (JsonNode q : d.get("detail")) {
                n++;
                if (q.get("greedy").get("correct").asBoolean()) c++;
            }
            assertEquals(plan.valQuestions(), n);
            if ((double) c / n > best) {
                best = (double) c / n;
                chosen = plan.lrCandidates().get(i);
            }
        }
        assertEquals(chosen, choice.get("chosen").asDouble());
        JsonNode first = JSON.readTree(lines(layout.metrics("cft-s0")).get(plan.steps(keptCount()) / 10));   // past the warmup
        assertTrue(first.get("lr").asDouble() <= chosen + 1e-12 && first.get("lr").asDouble() >= chosen * plan.minLrRatio() - 1e-12,
                "cft trains at the chosen rate: " + first);
    }

    static int keptCount() throws IOException {
        int n = 0;
        for (String line : lines(layout.masks())) if (JSON.readTree(line).get("kept").asBoolean()) n++;
        return n;
    }

    @Test
    void everyFileOfTheLayoutExistsAndParses() throws IOException {
        for (String line : lines(layout.masks())) JSON.readTree(line);
        JsonNode summary = JSON.readTree(layout.masksSummary().toFile());
        assertEquals(DemoPlan.quickPlan().mineQuestions(), summary.get("examples").asInt());
        for (String o : TRAINED) {
            List<String> metrics = lines(layout.metrics(o));
            assertEquals(DemoPlan.quickPlan().steps(keptCount()), metrics.size(), o);
            for (int i = 0; i < metrics.size(); i++) {
                JsonNode step = JSON.readTree(metrics.get(i));
                assertEquals(i + 1, step.get("step").asInt(), o);
                assertTrue(Double.isFinite(step.get("loss").asDouble()), o);
            }
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                assertTrue(Files.isRegularFile(layout.trainedModel(o).resolve(f)), o + ": final/" + f);
            }
        }
        // SFTKey's targets carry the tags, added to its tokenizer as single tokens.
        String sftkeyTokenizer = Files.readString(layout.trainedModel("sftkey-s0").resolve("tokenizer.json"));
        for (String tag : Objectives.SFTKEY_TAGS) assertTrue(sftkeyTokenizer.contains("\"" + tag + "\""), tag);
    }

    /** Greedy accuracy and pass@k of every eval JSON, recomputed from its per-question verdicts in float64. */
    @Test
    void evalJsonForTheBaseAndEveryObjectiveAgreesWithItsOwnVerdicts() throws IOException {
        int n = DemoPlan.quickPlan().samples();
        for (String model : MODELS) {
            JsonNode e = JSON.readTree(layout.eval(model).toFile());
            Path expectedModel = model.equals("base") ? Path.of(RunManifest.read(layout.manifest()).baseModel()) : layout.trainedModel(model);
            assertEquals(expectedModel, Path.of(e.get("model").asText()), model);
            List<String> names = new ArrayList<>();
            for (JsonNode d : e.get("datasets")) {
                names.add(d.get("name").asText());
                int questions = 0, greedy = 0;
                double[] pass = new double[n + 1];
                for (JsonNode q : d.get("detail")) {
                    questions++;
                    if (q.get("greedy").get("correct").asBoolean()) greedy++;
                    int c = 0;
                    for (JsonNode s : q.get("samples")) if (s.get("correct").asBoolean()) c++;
                    assertEquals(n, q.get("samples").size());
                    assertEquals(c, q.get("correct_samples").asInt());
                    for (int k = 1; k <= n; k++) pass[k] += 1 - chooseRatio(n - c, n, k);
                }
                assertEquals(questions, d.get("questions").asInt());
                assertEquals((double) greedy / questions, d.get("greedy_accuracy").asDouble(), 1e-12, model + " " + names);
                for (var it = d.get("pass_at_k").fields(); it.hasNext();) {
                    var kv = it.next();
                    int k = Integer.parseInt(kv.getKey());
                    assertEquals(pass[k] / questions, kv.getValue().asDouble(), 1e-9, model + " pass@" + k);
                }
                assertTrue(d.get("entropy").asDouble() >= 0, model);
            }
            assertEquals(List.of("test", "ood"), names, model);
        }
    }

    /** C(a, k) / C(b, k) as a product (0 when a < k). */
    static double chooseRatio(int a, int b, int k) {
        if (a < k) return 0;
        double r = 1;
        for (int i = 0; i < k; i++) r *= (double) (a - i) / (b - i);
        return r;
    }

    /**
     * The masks' critical fraction, counted from the raw lines, is what CFT trains: every step's
     * trained-token fraction is the critical count over the response tokens of that step's records (the
     * kept records with a critical token, dealt in the trainer's order, {@link ReferenceBatchOrder}); random has the same density
     * record by record, so the same fractions; SFT and DFT train every token.
     */
    @Test
    void cftTrainsExactlyTheMinedCriticalFraction() throws IOException {
        record Kept(int promptTokens, int responseTokens, int critical) {}
        List<Kept> kept = new ArrayList<>();
        long critical = 0, positions = 0, responseTokens = 0;
        for (String line : lines(layout.masks())) {
            JsonNode r = JSON.readTree(line);
            positions += r.get("positions").size();
            critical += r.get("critical").size();
            if (!r.get("kept").asBoolean()) continue;
            kept.add(new Kept(r.get("prompt_tokens").asInt(), r.get("response_ids").size(), r.get("critical").size()));
            responseTokens += r.get("response_ids").size();
        }
        assertFalse(kept.isEmpty(), "the quick base solves some mined questions");
        assertTrue(critical > 0, "some tokens are critical");
        JsonNode summary = JSON.readTree(layout.masksSummary().toFile());
        assertEquals((double) critical / positions, summary.get("critical_fraction").asDouble(), 1e-12);
        assertEquals(positions, responseTokens, "every response position of the kept records is examined");

        DemoPlan plan = DemoPlan.quickPlan();
        List<Kept> usable = kept.stream().filter(k -> k.critical() > 0).toList();
        int[] lengths = usable.stream().mapToInt(k -> k.promptTokens() + k.responseTokens()).toArray();
        for (String objective : List.of("cft-s0", "cft-s1", "random-s0", "random-s1", "entropy-s0", "entropy-s1")) {
            long seed = Long.parseLong(objective.substring(objective.length() - 1));
            List<int[]> steps = ReferenceBatchOrder.steps(lengths, plan.batchSize(), seed, plan.steps(kept.size()));
            List<String> metrics = lines(layout.metrics(objective));
            for (int s = 0; s < steps.size(); s++) {
                long c = 0, r = 0;
                for (int i : steps.get(s)) {
                    Kept k = usable.get(i);
                    c += k.critical();
                    r += k.responseTokens();
                }
                assertEquals((double) c / r, JSON.readTree(metrics.get(s)).get("trained_token_fraction").asDouble(), 1e-12,
                        objective + " step " + (s + 1));
            }
        }
        for (String objective : List.of("sft-s0", "sft-s1", "dft-s0", "dft-s1")) {
            for (String line : lines(layout.metrics(objective))) assertEquals(1.0, JSON.readTree(line).get("trained_token_fraction").asDouble());
        }
        System.out.printf("quick demo: %d kept of %d mined, %d of %d positions critical (%.1f%%)%n", kept.size(),
                summary.get("examples").asInt(), critical, positions, 100.0 * critical / positions);
    }

    @Test
    void aSecondRunWithTheSameOutSkipsEveryStage() throws IOException {
        List<RunManifest.Stage> before = RunManifest.read(layout.manifest()).stages();
        long t0 = System.nanoTime();
        Result r = demo("--quick");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.status, r.err);
        assertEquals(STAGES, r.err.split("done in an earlier run", -1).length - 1, r.err);
        assertEquals(before, RunManifest.read(layout.manifest()).stages(), "nothing re-ran");
        assertTrue(seconds < Math.max(20, firstSeconds / 4), "the resumed run took " + seconds + " s, the first " + firstSeconds + " s");
    }

    @Test
    void aRunWithOtherSettingsIntoTheSameDirectoryIsRefused() throws IOException {
        byte[] manifest = Files.readAllBytes(layout.manifest());
        Result r = demo("--name", "quick");   // the full sizes into the quick run's directory
        assertEquals(1, r.status, r.err);
        assertTrue(r.err.contains("different settings") && r.err.contains("made with --quick, now without")
                && r.err.contains("mine.questions: there 96, now 1200") && r.err.contains("new --name"), r.err);
        assertEquals(new String(manifest, StandardCharsets.UTF_8), Files.readString(layout.manifest()), "the refused run changed nothing");
    }

    @Test
    void aDirectoryThatIsNotADemoRunIsRefused() throws IOException {
        Files.createDirectories(runs.resolve("other"));
        Files.writeString(runs.resolve("other/notes.txt"), "mine");
        Result r = demo("--quick", "--name", "other");
        assertEquals(1, r.status, r.err);
        assertTrue(r.err.contains("not a demo run"), r.err);
        assertEquals("mine", Files.readString(runs.resolve("other/notes.txt")));
    }

    /** Drops {@code model}'s training record from demo.json and deletes {@code dir}, as a run killed before recording it. */
    static void forgetTraining(String model, Path dir) throws IOException {
        RunManifest m = RunManifest.read(layout.manifest());
        List<RunManifest.Stage> kept = m.stages().stream().filter(s -> !(s.name().equals("train") && model.equals(s.model()))).toList();
        new RunManifest(m.version(), m.name(), m.quick(), m.baseModel(), m.objectives(), m.settings(), kept, m.startedAt(), null,
                m.environment()).write(layout.manifest());
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /**
     * sft-s0 is the lr stage's run at the chosen rate, moved rather than trained again: training it afresh (its
     * record and directory removed, the lr stage kept) gives the same weights, byte for byte.
     */
    @Test
    @Order(Integer.MAX_VALUE - 1)
    void theAdoptedSftSeed0IsTheTrainingSftSeed0WouldBe() throws IOException {
        byte[] adopted = Files.readAllBytes(layout.trainedModel("sft-s0").resolve("model.safetensors"));
        forgetTraining("sft-s0", layout.trainDir("sft-s0"));
        Result r = demo("--quick");
        assertEquals(0, r.status, r.err);
        assertTrue(java.util.regex.Pattern.compile("demo \\[\\d+/\\d+\\] train sft-s0: finished in").matcher(r.err).find(), "sft-s0 trained: " + r.err);
        assertTrue(java.util.Arrays.equals(adopted, Files.readAllBytes(layout.trainedModel("sft-s0").resolve("model.safetensors"))),
                "sft-s0 trained afresh differs from the lr stage's run at the chosen rate");
        assertEquals(STAGES, RunManifest.read(layout.manifest()).stages().size());
    }

    /**
     * A run killed after DFT's last checkpoint but before its final model was exported and recorded: the
     * rerun continues DFT from that checkpoint (no step is trained twice: metrics keep one line per step),
     * exports the same weights, evaluates DFT again, and skips everything else. Runs last: it reorders the
     * manifest's stages (a stage is recorded when it finishes).
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void anInterruptedTrainingContinuesFromItsCheckpointAndIsEvaluatedAgain() throws IOException {
        int steps = DemoPlan.quickPlan().steps(keptCount());
        byte[] weights = Files.readAllBytes(layout.trainedModel("dft-s1").resolve("model.safetensors"));
        // eval dft stays recorded (its JSON is there): a retrained model must be evaluated again all the same
        forgetTraining("dft-s1", layout.trainedModel("dft-s1"));
        Result r = demo("--quick");
        assertEquals(0, r.status, r.err);
        assertTrue(r.err.contains("train dft-s1: continuing from " + layout.trainDir("dft-s1").resolve("checkpoint-" + steps)), r.err);
        assertEquals(STAGES - 3, r.err.split("done in an earlier run", -1).length - 1, r.err);
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(layout.trainedModel("dft-s1").resolve("model.safetensors"))),
                "the resumed export equals the first run's weights");
        assertEquals(steps, lines(layout.metrics("dft-s1")).size());
        List<String> last = RunManifest.read(layout.manifest()).stages().stream().map(s -> s.name() + ":" + s.model()).toList();
        assertEquals(List.of("train:dft-s1", "eval:dft-s1", "report:null"), last.subList(last.size() - 3, last.size()),
                "a retrained model is evaluated again and the report rebuilt");
        assertEquals(STAGES, last.size());
    }

    static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }
}
