package dev.linchpin.demo;

import dev.linchpin.data.Difficulty;
import dev.linchpin.data.Operation;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.eval.EvalOptions;
import dev.linchpin.mine.MiningOptions;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.Normalization;
import dev.linchpin.report.PairedBootstrap;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The protocol of a demo run, fixed in code before any result is seen (no tuning to make one objective
 * win): the base model, the target data, the one training budget every objective gets, the seeds and
 * the evaluation budget. {@link #settings()} is what {@code demo.json} records and what a resumed run
 * must match.
 *
 * <p>Headroom: the base (the embedded default, trained on 1–3-step problems) is fine-tuned and tested on
 * a related but harder setting of the same generator ({@link #targetDifficulty}: more steps), whose
 * questions it never trained on ({@link DemoData} drops any that its data holds). The setting was chosen
 * by measuring the base's greedy accuracy on candidates (bench/results/2026-11-26-demo.md), to start
 * between 30 % and 70 %.
 *
 * <p>Training examples: every objective trains on the same examples, D_correct, the base model's own
 * greedy responses that the verifier accepted while mining (the kept records of {@code masks.jsonl}),
 * because CFT's targets are those responses by definition; training SFT, DFT and the ablations on the
 * same responses leaves the per-token weighting as the only difference. SFTKey rewrites each such
 * response "reasoning #### N" into {@code <Thinking>reasoning</Thinking><Answer>N</Answer>}.
 *
 * <p>Budget: {@link #epochs} passes over D_correct ({@link #steps}), for every objective and seed. The
 * learning rate is chosen once per run, for SFT with seed 0, among {@link #lrCandidates} by greedy
 * accuracy on the validation split (ties: the smaller rate), and then used for every objective.
 *
 * @param quick            whether these are the {@code --quick} sizes
 * @param base             the embedded default the run starts from
 * @param targetDifficulty the generator setting of the mined, validation and test questions
 * @param dataSeed         the generator seed of those questions (not the base's)
 * @param mineQuestions    questions mined (D_correct is their verified greedy responses)
 * @param valQuestions     validation questions (learning-rate choice only)
 * @param testQuestions    reported in-distribution test questions
 * @param oodQuestions     reported OOD questions: the first this many of the base's own OOD split
 * @param epochs           passes over D_correct
 * @param batchSize        sequences per optimizer step (one micro-batch)
 * @param lrCandidates     AdamW peak learning rates tried for SFT on the validation split
 * @param minLrRatio       final lr / peak lr (warmup: a tenth of the steps, then cosine decay)
 * @param seeds            training seeds per objective: 0 .. seeds − 1 (data order and the random positions)
 * @param saveEvery        checkpoint interval in steps (0: only at the end), what an interrupted run resumes from
 * @param samples          n of pass@k: temperature samples per question
 * @param maxNewTokens     response budget of mining and evaluation
 */
public record DemoPlan(boolean quick, DefaultConfig base, Difficulty targetDifficulty, long dataSeed, int mineQuestions,
        int valQuestions, int testQuestions, int oodQuestions, int epochs, int batchSize, List<Double> lrCandidates,
        double minLrRatio, int seeds, int saveEvery, int samples, int maxNewTokens) {
    /** The objectives, in training and report order. */
    public static final List<DemoObjective> OBJECTIVES = List.of(DemoObjective.SFT, DemoObjective.CFT, DemoObjective.SFTKEY,
            DemoObjective.DFT, DemoObjective.RANDOM, DemoObjective.ENTROPY);
    /**
     * The order objectives are trained in within a seed: the experiment's questions first (SFT, CFT, entropy,
     * then the random control), so that a run stopped early can already answer CFT − SFT and CFT − entropy.
     */
    public static final List<DemoObjective> TRAINING_ORDER = List.of(DemoObjective.SFT, DemoObjective.CFT, DemoObjective.ENTROPY,
            DemoObjective.RANDOM, DemoObjective.DFT, DemoObjective.SFTKEY);
    /** pass@k sampling temperature and nucleus (the {@code linchpin eval} defaults). */
    static final double TEMPERATURE = EvalOptions.DEFAULT_TEMPERATURE, TOP_P = EvalOptions.DEFAULT_TOP_P;
    static final long EVAL_SEED = 0;
    static final double WEIGHT_DECAY = 0.0, MAX_GRAD_NORM = 1.0;

    public DemoPlan {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(targetDifficulty, "targetDifficulty");
        lrCandidates = List.copyOf(lrCandidates);
        if (mineQuestions < 1 || valQuestions < 1 || testQuestions < 1 || oodQuestions < 1) {
            throw new IllegalArgumentException("every split needs >= 1 question");
        }
        if (oodQuestions > base.oodSize()) throw new IllegalArgumentException("the base has " + base.oodSize() + " OOD questions, not " + oodQuestions);
        if (epochs < 1 || batchSize < 1 || seeds < 1) throw new IllegalArgumentException("epochs, batch size and seeds must be >= 1");
        if (lrCandidates.isEmpty()) throw new IllegalArgumentException("at least one learning rate candidate");
        if (samples < 1) throw new IllegalArgumentException("samples must be >= 1");
    }

    /**
     * The full demo: the shipped default (about 5 minutes to train on 2 cores when not cached), 1,200
     * mined questions of 2–4 steps, 3 epochs over D_correct, 3 seeds, 300 test and 100 OOD questions with
     * n = 4 samples. Times: bench/results/2026-11-26-demo.md.
     */
    public static DemoPlan standardPlan() {
        DefaultConfig base = DefaultConfig.standard();
        return new DemoPlan(false, base, new Difficulty(2, 4, 9, 3, 40, EnumSet.allOf(Operation.class)), 2026, 1200, 200, 300, 100,
                3, 16, List.of(1e-4, 3e-4, 1e-3), 0.1, 3, 0, 4, base.maxNewTokens());
    }

    /**
     * The {@code --quick} demo: a tiny-shaped default ({@link #quickBase()}) that trains in seconds, targets
     * of 2 steps, 96 mined questions, 3 epochs, 2 seeds, 40 test and 20 OOD questions with n = 4; every
     * stage of the full demo runs.
     */
    public static DemoPlan quickPlan() {
        DefaultConfig base = quickBase();
        return new DemoPlan(true, base, new Difficulty(2, 2, 9, 3, 30, EnumSet.allOf(Operation.class)), 2026, 96, 24, 40, 20,
                3, 8, List.of(3e-4, 1e-3), 0.1, 2, 0, 4, base.maxNewTokens());
    }

    /** This plan with {@code n} training seeds. */
    public DemoPlan withSeeds(int n) {
        return new DemoPlan(quick, base, targetDifficulty, dataSeed, mineQuestions, valQuestions, testQuestions, oodQuestions, epochs,
                batchSize, lrCandidates, minLrRatio, n, saveEvery, samples, maxNewTokens);
    }

    /** The training seeds, 0 .. seeds − 1. */
    public List<Long> seedList() {
        List<Long> out = new ArrayList<>();
        for (long s = 0; s < seeds; s++) out.add(s);
        return out;
    }

    /** Optimizer steps for {@code dCorrect} examples: ceil(epochs · |D_correct| / batch), at least 2 (SFTKey's two stages). */
    public int steps(int dCorrect) {
        return Math.max(2, (int) Math.ceil((double) epochs * dCorrect / batchSize));
    }

    /** Linear warmup steps: a tenth of the steps, at least 1. */
    public static int warmupSteps(int steps) {
        return Math.max(1, steps / 10);
    }

    /** SFTKey's stage-1 steps: half (the rest is stage 2), as {@code linchpin train} does. */
    public static int sftKeyStage1(int steps) {
        return Math.max(1, steps / 2);
    }

    /**
     * {@link DefaultConfig#tiny()} made just large enough to solve some of its questions: the shipped tiny
     * config answers none (0 %), which leaves CFT no correct responses to train on. Same task family (1–2
     * step problems, OOD 3 steps), a 64-wide 2-layer model, 2000 problems, 800 steps of 16; measured at 23 %
     * test accuracy. Cached under its own hash like any default.
     */
    public static DefaultConfig quickBase() {
        return DefaultConfig.tiny().with(Map.of(
                "data.train", "2000", "data.test", "40", "data.ood", "20",
                "model.hidden", "64", "model.heads", "2", "model.intermediate", "192",
                "train.steps", "800", "train.batch", "16", "train.warmup", "20",
                "eval.max_new_tokens", "64"));
    }

    /** Mining as the paper does it (k = 2, one greedy continuation per alternative, every position). */
    public MiningOptions miningOptions() {
        MiningOptions d = MiningOptions.defaults();
        return new MiningOptions(d.k(), d.rollouts(), d.temperature(), d.topP(), d.seed(), d.failureThreshold(), d.spanStart(),
                d.spanEnd(), maxNewTokens, d.branchMargin(), d.batchSize(), d.maxBranches());
    }

    /** The objectives' names ({@link Objective#cliName()}), as demo.json and the run directory spell them. */
    public static List<String> objectiveNames() {
        return OBJECTIVES.stream().map(DemoObjective::cliName).toList();
    }

    /**
     * The one training budget every objective gets for {@code steps} steps at {@code peakLr} with data-order
     * seed {@code seed} (DFT's probability weighting is switched on by its {@link dev.linchpin.train.Objective},
     * {@link dev.linchpin.train.TrainingRun}): one micro-batch per step, warmup then cosine decay,
     * token-mean normalisation, the deterministic loss kernel.
     */
    public FineTuneConfig fineTune(int threads, int steps, double peakLr, long seed) {
        return FineTuneConfig.builder(steps).batch(batchSize, 1).learningRate(peakLr, warmupSteps(steps))
                .schedule(FineTuneConfig.Schedule.COSINE, minLrRatio).weightDecay(WEIGHT_DECAY).maxGradNorm(MAX_GRAD_NORM)
                .seed(seed).threads(threads).deterministic(true).normalization(Normalization.TOKEN_MEAN)
                .checkpointEvery(saveEvery).build();
    }

    /** Greedy accuracy only (n = 1, the sample unused), for the learning-rate choice on the validation split. */
    public EvalOptions validationOptions() {
        return new EvalOptions(1, List.of(1), TEMPERATURE, TOP_P, EVAL_SEED, maxNewTokens, 0, 8, 64);
    }

    /** Evaluation of every model: every test and OOD question, greedy + n samples. */
    public EvalOptions evalOptions() {
        return new EvalOptions(samples, EvalOptions.defaultKs(samples), TEMPERATURE, TOP_P, EVAL_SEED, maxNewTokens, 0, 8, 64);
    }

    /**
     * The settings as display strings, in a fixed order: recorded in {@code demo.json}, shown by the report,
     * and compared when a run is resumed (any difference refuses the resume).
     */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("base.config_hash", base.hash());
        s.put("base.model", String.format(Locale.ROOT, "llama hidden %d, %d layers, %d heads, intermediate %d",
                base.hiddenSize(), base.layers(), base.heads(), base.intermediateSize()));
        s.put("base.train_problems", Integer.toString(base.trainSize()));
        s.put("base.difficulty", difficulty(base.difficulty()));
        s.put("data.target_difficulty", difficulty(targetDifficulty));
        s.put("data.seed", Long.toString(dataSeed));
        s.put("data.disjoint", "target questions that appear in any split of the base's data are dropped");
        s.put("data.val_questions", Integer.toString(valQuestions));
        s.put("mine.questions", Integer.toString(mineQuestions));
        MiningOptions m = miningOptions();
        s.put("mine.k", Integer.toString(m.k()));
        s.put("mine.continuations", m.greedy() ? "greedy, 1 per alternative" : m.rollouts() + " sampled");
        s.put("mine.max_new_tokens", Integer.toString(m.maxNewTokens()));
        s.put("train.examples", "D_correct: the base model's verified greedy responses to the mined questions (kept records of masks.jsonl)");
        s.put("train.objectives", String.join(",", objectiveNames()));
        s.put("train.entropy_selection", "per response the m highest-entropy positions of the base (m = CFT's count there); ties: earlier position");
        s.put("train.epochs", Integer.toString(epochs));
        s.put("train.steps", "ceil(epochs x |D_correct| / batch); sftkey: half stage 1, half stage 2");
        s.put("train.batch_size", Integer.toString(batchSize));
        s.put("train.lr_candidates", lrCandidates.stream().map(DemoPlan::num).collect(Collectors.joining(",")));
        s.put("train.lr_choice", "SFT, seed 0, highest greedy accuracy on the validation split (ties: smaller lr), then used for all");
        s.put("train.schedule", String.format(Locale.ROOT, "warmup steps/10, cosine to %s x peak", num(minLrRatio)));
        s.put("train.weight_decay", num(WEIGHT_DECAY));
        s.put("train.max_grad_norm", num(MAX_GRAD_NORM));
        s.put("train.normalization", "token-mean");
        s.put("train.seeds", seedList().stream().map(String::valueOf).collect(Collectors.joining(",")));
        s.put("train.save_every", Integer.toString(saveEvery));
        EvalOptions e = evalOptions();
        s.put("eval.test_questions", Integer.toString(testQuestions));
        s.put("eval.ood_questions", Integer.toString(oodQuestions));
        s.put("eval.samples", Integer.toString(e.samples()));
        s.put("eval.ks", e.ks().stream().map(String::valueOf).collect(Collectors.joining(",")));
        s.put("eval.temperature", num(e.temperature()));
        s.put("eval.top_p", num(e.topP()));
        s.put("eval.seed", Long.toString(e.seed()));
        s.put("eval.max_new_tokens", Integer.toString(e.maxNewTokens()));
        s.put("stats.bootstrap", PairedBootstrap.B + " paired resamples of questions and seeds, 95 % percentile interval, rng seed "
                + PairedBootstrap.RNG_SEED);
        return s;
    }

    private static String difficulty(Difficulty d) {
        return String.format(Locale.ROOT, "%d-%d steps, operands <= %d, factors <= %d, results <= %d", d.minSteps(), d.maxSteps(),
                d.maxOperand(), d.maxFactor(), d.maxResult());
    }

    private static String num(double v) {
        return Double.toString(v);
    }
}
