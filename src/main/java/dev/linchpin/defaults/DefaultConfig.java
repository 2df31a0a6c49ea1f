package dev.linchpin.defaults;

import dev.linchpin.data.Difficulty;
import dev.linchpin.data.Operation;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.Normalization;
import dev.linchpin.train.Precision;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Everything that determines the embedded default model: the synthetic data (seed, split sizes,
 * difficulties), the model's shape and initialisation seed, the training hyper-parameters and the
 * evaluation budget. Two equal configs produce the same model, so {@link #hash()} keys the cache.
 *
 * @param dataSeed        seed of {@link dev.linchpin.data.SyntheticTask}
 * @param trainSize       training problems
 * @param testSize        test problems (same difficulty as train, disjoint questions)
 * @param oodSize         out-of-distribution problems
 * @param difficulty      train/test difficulty
 * @param oodDifficulty   OOD difficulty
 * @param hiddenSize      model width
 * @param layers          decoder layers
 * @param heads           attention heads (no grouped-query sharing: KV heads = heads)
 * @param intermediateSize SwiGLU width
 * @param maxPositions    max_position_embeddings (longest prompt + response the model is meant for)
 * @param modelSeed       seed of the random initialisation
 * @param training        optimisation hyper-parameters (its seed fixes the data order); one micro-batch per
 *                        step and rank ({@code microBatch} is each rank's share of the step), cosine decay,
 *                        token-mean, fp32 and no DFT, as {@link #canonical()} records
 * @param ranks           data-parallel ranks, threads of the building process
 *                        ({@link dev.linchpin.distributed.ThreadRanks}); a step holds {@code microBatch · ranks}
 *                        examples. Part of the recipe, not of the machine: the same config trains the same
 *                        way (and to the same weights) on any number of cores
 * @param maxNewTokens    greedy decoding budget at evaluation
 */
public record DefaultConfig(long dataSeed, int trainSize, int testSize, int oodSize, Difficulty difficulty,
                            Difficulty oodDifficulty, int hiddenSize, int layers, int heads, int intermediateSize,
                            int maxPositions, long modelSeed, FineTuneConfig training, int ranks, int maxNewTokens) {
    /**
     * Bumped whenever the code that turns a config into a model changes meaning (prompt format,
     * tokenizer layout, loss, training loop), so old caches are not reused for a different recipe.
     */
    public static final int RECIPE_VERSION = 2;

    public DefaultConfig {
        Objects.requireNonNull(difficulty, "difficulty");
        Objects.requireNonNull(oodDifficulty, "oodDifficulty");
        Objects.requireNonNull(training, "training");
        if (trainSize < 1 || testSize < 0 || oodSize < 0) throw new IllegalArgumentException("need trainSize >= 1 and test/ood sizes >= 0");
        if (hiddenSize < 1 || layers < 1 || heads < 1 || intermediateSize < 1 || hiddenSize % heads != 0) {
            throw new IllegalArgumentException("model sizes must be positive with hiddenSize a multiple of heads");
        }
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (maxPositions < 2 || maxNewTokens < 1) throw new IllegalArgumentException("maxPositions >= 2 and maxNewTokens >= 1 required");
        // canonical() keys the cache by the fields that vary; these are fixed so that it stays complete
        if (training.gradAccum() != 1 || training.schedule() != FineTuneConfig.Schedule.COSINE
                || training.normalization() != Normalization.TOKEN_MEAN || training.dft() || training.precision() != Precision.FP32) {
            throw new IllegalArgumentException("the default model trains with one micro-batch per step, cosine decay, token-mean, "
                    + "no DFT and fp32, got " + training);
        }
    }

    /**
     * The default model's optimisation: AdamW over all weights with warmup and cosine decay, clipping, the
     * data order seeded by {@code seed}, every response token (EOS included) weighted 1.
     */
    static FineTuneConfig training(int steps, int batch, double peakLr, int warmup, double minLrRatio, double weightDecay,
            double maxGradNorm, long seed, int threads, boolean deterministic) {
        return FineTuneConfig.builder(steps).batch(batch, 1).learningRate(peakLr, warmup)
                .schedule(FineTuneConfig.Schedule.COSINE, minLrRatio).weightDecay(weightDecay).maxGradNorm(maxGradNorm).seed(seed)
                .threads(threads).deterministic(deterministic).build();
    }

    /**
     * The shipped default (chosen by measurement, see bench/results/*-embedded-default.md): small
     * numbers (operands ≤ 9, factors ≤ 3, results ≤ 40) and 1–3 steps, because the same 0.9M-parameter
     * model trained for 700 steps got only 9% on the harder {@link Difficulty#standard()} task (1000
     * steps here: 60–76% test depending on the run's float rounding, about 5½ minutes on 2 cores); OOD asks
     * for 4–5 steps with operands up to 20 and results up to 99. Two data-parallel ranks of one thread each
     * (16 examples each per step): on 2 cores that trains about 1.4x faster than one process, whose second
     * libtorch thread adds almost nothing at this size.
     */
    public static DefaultConfig standard() {
        return new DefaultConfig(1234, 8000, 200, 100,
                new Difficulty(1, 3, 9, 3, 40, EnumSet.allOf(Operation.class)),
                new Difficulty(4, 5, 20, 3, 99, EnumSet.allOf(Operation.class)),
                128, 4, 4, 384, 512, 42,
                training(1000, 16, 3e-3, 50, 0.1, 0.01, 1.0, 7, 1, true), 2,
                160);
    }

    /**
     * A tiny config for tests: trains in seconds; its accuracy is meaningless.
     */
    public static DefaultConfig tiny() {
        return new DefaultConfig(99, 64, 4, 2,
                new Difficulty(1, 2, 9, 3, 30, EnumSet.allOf(Operation.class)),
                new Difficulty(3, 3, 9, 3, 60, EnumSet.allOf(Operation.class)),
                32, 2, 2, 64, 256, 5,
                training(30, 8, 3e-3, 5, 0.1, 0.0, 1.0, 11, 2, true), 1,
                24);
    }

    /**
     * This config with some fields replaced, by the names of {@link #canonical()} ({@code data.train=2000},
     * {@code model.hidden=192}, {@code train.steps=800}, {@code train.peak_lr=0.002}, ...): for
     * calibration runs from the command line. Unknown names are an error.
     */
    public DefaultConfig with(Map<String, String> overrides) {
        Map<String, String> o = new java.util.HashMap<>(overrides);
        FineTuneConfig t = training;
        int newRanks = intOr(o, "train.ranks", ranks);
        DefaultConfig c = new DefaultConfig(
                longOr(o, "data.seed", dataSeed), intOr(o, "data.train", trainSize), intOr(o, "data.test", testSize),
                intOr(o, "data.ood", oodSize),
                new Difficulty(intOr(o, "data.min_steps", difficulty.minSteps()), intOr(o, "data.max_steps", difficulty.maxSteps()),
                        intOr(o, "data.max_operand", difficulty.maxOperand()), intOr(o, "data.max_factor", difficulty.maxFactor()),
                        intOr(o, "data.max_result", difficulty.maxResult()), difficulty.operations()),
                oodDifficulty,
                intOr(o, "model.hidden", hiddenSize), intOr(o, "model.layers", layers), intOr(o, "model.heads", heads),
                intOr(o, "model.intermediate", intermediateSize), intOr(o, "model.max_positions", maxPositions),
                longOr(o, "model.seed", modelSeed),
                training(intOr(o, "train.steps", t.steps()), perRank(intOr(o, "train.batch", t.microBatch() * ranks), newRanks),
                        doubleOr(o, "train.peak_lr", t.peakLr()), intOr(o, "train.warmup", t.warmupSteps()),
                        doubleOr(o, "train.min_lr_ratio", t.minLrRatio()), doubleOr(o, "train.weight_decay", t.weightDecay()),
                        doubleOr(o, "train.max_grad_norm", t.maxGradNorm()), longOr(o, "train.seed", t.seed()),
                        intOr(o, "train.threads", t.threads()), t.deterministic()),
                newRanks, intOr(o, "eval.max_new_tokens", maxNewTokens));
        if (!o.isEmpty()) throw new IllegalArgumentException("unknown config keys " + o.keySet());
        return c;
    }

    /** Each rank's share of a step of {@code batch} examples. */
    private static int perRank(int batch, int ranks) {
        if (ranks < 1) throw new IllegalArgumentException("train.ranks must be >= 1, got " + ranks);
        if (batch % ranks != 0) throw new IllegalArgumentException("train.batch " + batch + " is not a multiple of train.ranks " + ranks);
        return batch / ranks;
    }

    private static int intOr(Map<String, String> o, String key, int fallback) {
        String v = o.remove(key);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    private static long longOr(Map<String, String> o, String key, long fallback) {
        String v = o.remove(key);
        return v == null ? fallback : Long.parseLong(v.trim());
    }

    private static double doubleOr(Map<String, String> o, String key, double fallback) {
        String v = o.remove(key);
        return v == null ? fallback : Double.parseDouble(v.trim());
    }

    /** The canonical text the hash is taken of: every field, in a fixed order and number format. */
    public String canonical() {
        FineTuneConfig t = training;
        return String.join("\n",
                "recipe=" + RECIPE_VERSION,
                "data.seed=" + dataSeed, "data.train=" + trainSize, "data.test=" + testSize, "data.ood=" + oodSize,
                "data.difficulty=" + difficulty(difficulty), "data.ood_difficulty=" + difficulty(oodDifficulty),
                "model.hidden=" + hiddenSize, "model.layers=" + layers, "model.heads=" + heads,
                "model.intermediate=" + intermediateSize, "model.max_positions=" + maxPositions, "model.seed=" + modelSeed,
                "train.steps=" + t.steps(), "train.batch=" + t.microBatch() * ranks, "train.ranks=" + ranks,
                "train.peak_lr=" + num(t.peakLr()),
                "train.warmup=" + t.warmupSteps(), "train.min_lr_ratio=" + num(t.minLrRatio()),
                "train.weight_decay=" + num(t.weightDecay()), "train.max_grad_norm=" + num(t.maxGradNorm()),
                "train.seed=" + t.seed(), "train.threads=" + t.threads(), "train.deterministic=" + t.deterministic(),
                "eval.max_new_tokens=" + maxNewTokens);
    }

    /** First 16 hex digits of SHA-256 of {@link #canonical()}: the cache directory name. */
    public String hash() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String difficulty(Difficulty d) {
        String ops = EnumSet.copyOf(d.operations()).stream().map(Enum::name).collect(Collectors.joining("+"));
        return d.minSteps() + ".." + d.maxSteps() + "/operand" + d.maxOperand() + "/factor" + d.maxFactor()
                + "/result" + d.maxResult() + "/" + ops;
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.17g", v);
    }
}
