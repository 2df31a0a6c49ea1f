package dev.linchpin.demo;

import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.eval.EvalOptions;
import dev.linchpin.mine.MiningOptions;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.Normalization;
import dev.linchpin.train.Objective;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The sizes of a demo run, fixed before any result is seen (no tuning to make one objective win): the
 * base model, how many training questions are mined, the one training budget every objective gets, and
 * the evaluation budget. {@link #settings()} is what {@code demo.json} records and what a resumed run
 * must match.
 *
 * <p>Training examples: every objective trains on the same examples, D_correct, the base model's own
 * greedy responses that the verifier accepted while mining (the kept records of {@code masks.jsonl}),
 * because CFT's targets are those responses by definition; training SFT, DFT and the random ablation on
 * the same responses leaves the per-token weighting as the only difference. SFTKey rewrites each such
 * response "reasoning #### N" into {@code <Thinking>reasoning</Thinking><Answer>N</Answer>}.
 *
 * @param quick          whether these are the {@code --quick} sizes
 * @param base           the embedded default the run starts from
 * @param mineQuestions  the first this many questions of the default's training split are mined
 * @param steps          optimizer steps per objective (SFTKey: stage 1 + stage 2)
 * @param sftKeyStage1   SFTKey stage-1 steps (the rest are stage 2), half of {@code steps} as in {@code linchpin train}
 * @param batchSize      sequences per optimizer step (one micro-batch)
 * @param peakLr         AdamW peak learning rate (warmup, then cosine decay to {@code minLrRatio})
 * @param warmupSteps    linear warmup steps
 * @param minLrRatio     final lr / peak lr
 * @param seed           data order and the random ablation's positions
 * @param saveEvery      checkpoint interval in steps (0: only at the end), what an interrupted run resumes from
 * @param samples        n of pass@k: temperature samples per question
 * @param maxNewTokens   response budget of mining and evaluation
 */
public record DemoPlan(boolean quick, DefaultConfig base, int mineQuestions, int steps, int sftKeyStage1, int batchSize,
        double peakLr, int warmupSteps, double minLrRatio, long seed, int saveEvery, int samples, int maxNewTokens) {
    /** The objectives, in training and report order. */
    public static final List<Objective> OBJECTIVES = List.of(Objective.SFT, Objective.CFT, Objective.SFTKEY, Objective.DFT,
            Objective.RANDOM);
    /** pass@k sampling temperature and nucleus (the {@code linchpin eval} defaults). */
    static final double TEMPERATURE = EvalOptions.DEFAULT_TEMPERATURE, TOP_P = EvalOptions.DEFAULT_TOP_P;
    static final long EVAL_SEED = 0;
    static final double WEIGHT_DECAY = 0.0, MAX_GRAD_NORM = 1.0;

    public DemoPlan {
        Objects.requireNonNull(base, "base");
        if (mineQuestions < 1 || mineQuestions > base.trainSize()) {
            throw new IllegalArgumentException("mine questions must be in [1, " + base.trainSize() + "], got " + mineQuestions);
        }
        if (sftKeyStage1 < 1 || sftKeyStage1 >= steps) throw new IllegalArgumentException("SFTKey stages need >= 1 step each");
        if (samples < 1) throw new IllegalArgumentException("samples must be >= 1");
    }

    /**
     * The full demo: the shipped default (about 5 minutes to train on 2 cores when not cached), 256 mined
     * training questions, 120 steps of 16 sequences per objective, every test (200) and OOD (100)
     * question with n = 8 samples. Measured 11m48s on 2 shared cores (load 4–7) with the base cached; the base
     * adds about 5 minutes when it is not.
     */
    public static DemoPlan standardPlan() {
        DefaultConfig base = DefaultConfig.standard();
        return new DemoPlan(false, base, 256, 120, 60, 16, 5e-4, 10, 0.1, 0, 40, 8, base.maxNewTokens());
    }

    /**
     * The {@code --quick} demo: a tiny-shaped default ({@link #quickBase()}) that trains in seconds, 48 mined
     * questions, 40 steps of 8 per objective, 40 test and 20 OOD questions with n = 4. Measured 1m52s on 2 shared cores including the
     * base's first training (1m44s), about 10 s more once it is cached.
     */
    public static DemoPlan quickPlan() {
        DefaultConfig base = quickBase();
        return new DemoPlan(true, base, 48, 40, 20, 8, 5e-4, 4, 0.1, 0, 0, 4, base.maxNewTokens());
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
        return OBJECTIVES.stream().map(Objective::cliName).toList();
    }

    /**
     * The one training budget every objective gets (DFT's probability weighting is switched on by its
     * {@link Objective}, {@link dev.linchpin.train.TrainingRun}): one micro-batch per step, cosine decay,
     * token-mean normalisation, the deterministic loss kernel.
     */
    public FineTuneConfig fineTune(int threads) {
        return FineTuneConfig.builder(steps).batch(batchSize, 1).learningRate(peakLr, warmupSteps)
                .schedule(FineTuneConfig.Schedule.COSINE, minLrRatio).weightDecay(WEIGHT_DECAY).maxGradNorm(MAX_GRAD_NORM)
                .seed(seed).threads(threads).deterministic(true).normalization(Normalization.TOKEN_MEAN)
                .checkpointEvery(saveEvery).build();
    }

    /** Evaluation of every model: every test and OOD question of the default, greedy + n samples. */
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
        s.put("mine.questions", Integer.toString(mineQuestions));
        MiningOptions m = miningOptions();
        s.put("mine.k", Integer.toString(m.k()));
        s.put("mine.continuations", m.greedy() ? "greedy, 1 per alternative" : m.rollouts() + " sampled");
        s.put("mine.max_new_tokens", Integer.toString(m.maxNewTokens()));
        s.put("train.examples", "D_correct: the base model's verified greedy responses to the mined questions (kept records of masks.jsonl)");
        s.put("train.steps", Integer.toString(steps));
        s.put("train.sftkey_stage1_steps", Integer.toString(sftKeyStage1));
        s.put("train.batch_size", Integer.toString(batchSize));
        s.put("train.peak_lr", num(peakLr));
        s.put("train.schedule", String.format(Locale.ROOT, "warmup %d, cosine to %s x peak", warmupSteps, num(minLrRatio)));
        s.put("train.weight_decay", num(WEIGHT_DECAY));
        s.put("train.max_grad_norm", num(MAX_GRAD_NORM));
        s.put("train.normalization", "token-mean");
        s.put("train.seed", Long.toString(seed));
        s.put("train.save_every", Integer.toString(saveEvery));
        EvalOptions e = evalOptions();
        s.put("eval.test_questions", Integer.toString(base.testSize()));
        s.put("eval.ood_questions", Integer.toString(base.oodSize()));
        s.put("eval.samples", Integer.toString(e.samples()));
        s.put("eval.ks", e.ks().stream().map(String::valueOf).collect(Collectors.joining(",")));
        s.put("eval.temperature", num(e.temperature()));
        s.put("eval.top_p", num(e.topP()));
        s.put("eval.seed", Long.toString(e.seed()));
        s.put("eval.max_new_tokens", Integer.toString(e.maxNewTokens()));
        return s;
    }

    private static String num(double v) {
        return Double.toString(v);
    }
}
