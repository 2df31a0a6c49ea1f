package dev.linchpin.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.distributed.DataParallel;
import dev.linchpin.distributed.DistributedException;
import dev.linchpin.kernels.MaskedCeResult;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The one training loop: every objective ({@link Objectives}) and the embedded default's pre-training
 * (all weights 1) are stages of weighted examples ({@link TrainingStage}) trained here. AdamW with warmup +
 * cosine/linear decay ({@link FineTuneConfig#lr}), gradient accumulation with step-global normalisation
 * ({@link WeightedBatch}, {@link StepTotals}), global-norm clipping, a seeded data order, a hard stop on a
 * non-finite loss or gradient norm; with an output directory ({@link TrainingOutput}) also checkpoints
 * with exact resume, {@code metrics.jsonl} and the final model.
 *
 * <p>One run, in named steps ({@link #run}): {@link #resumeOrStartOver} (the first step to run),
 * then per step {@link #step} (the optimizer step itself), {@link #appendMetrics}, the listener, and
 * {@link #checkpoint} when due; at the end {@link #exportFinal}. A step ({@link #step}) is: set the
 * learning rate, deal the step's examples, count the {@link StepTotals} (a data-parallel trainer
 * all-reduces them here), forward and backward every micro-batch ({@link #accumulate}), clip
 * (a data-parallel trainer all-reduces the gradients just before), and apply AdamW.
 *
 * <p>Data order: per stage, a {@link BatchOrder} seeded with {@code seed + stage index} deals
 * {@code microBatch·gradAccum} examples per step, which are then cut into micro-batches; so the examples
 * of a step do not depend on how it is split, and accumulation over k micro-batches equals one batch
 * (up to float summation order). Resume replays the order up to the checkpoint's step.
 *
 * <p>Reproducibility: nothing draws from libtorch's global generator (no dropout), and
 * {@link FineTuneConfig#deterministic()} fixes the loss kernel's summation order, so the same inputs give
 * bit-identical weights on the same machine and thread count. Threads: {@code torch.set_num_threads} is
 * set to {@link FineTuneConfig#threads()}; OpenBLAS must be single-threaded ({@code OPENBLAS_NUM_THREADS=1}).
 *
 * <p>Precision ({@link FineTuneConfig#precision()}): the trained tensors must be fp32 (master weights)
 * and AdamW's moments are fp32 with them; under {@link Precision#BF16} only the model's forward runs in
 * bf16 autocast ({@link ObjectiveLoss}). The resolved precision is recorded in each checkpoint's state.
 *
 * <p>Outputs under the output directory: {@code checkpoint-<step>/} ({@link Checkpoints}),
 * {@code metrics.jsonl} (one line per step: step, stage, loss, lr, grad_norm, tokens_per_s,
 * trained_token_fraction, step_s; allreduce_s, the step's time in collectives, in a data-parallel
 * run), {@code final/} (Hugging Face layout; merged weights for LoRA), and for LoRA {@code adapter/}
 * (the adapters alone in PEFT's layout, {@link PeftAdapters}).
 *
 * <p>Data-parallel ({@link DataParallel}, null for one process, which is then exactly the single-process
 * trainer): every rank deals the same global step of {@code microBatch·gradAccum·worldSize} examples
 * from the same {@link BatchOrder} and trains the disjoint slice {@link #slice} of it, in {@code gradAccum}
 * micro-batches of {@code microBatch}. The {@link StepTotals} are summed over the ranks before any loss is
 * scaled, so each rank's loss is its share of the global token (or sequence) mean, and the sum of the
 * ranks' gradients, all-reduced in buckets after backward, is the gradient of one process training the
 * whole global step; clipping then sees the global norm, and AdamW makes the same update on every rank.
 * Rank 0 alone writes metrics, checkpoints (with the world size, which a resume must match) and the final
 * model; every rank reads the checkpoint it resumes from. The weights' checksum is compared across ranks
 * at the start and at every checkpoint.
 */
public final class FineTuner {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METRICS = "metrics.jsonl";
    /** In a data-parallel run's checkpoint state: how many processes wrote it. */
    static final String WORLD_SIZE = "world_size";
    /**
     * How long the other ranks wait for rank 0 to write a checkpoint: longer than the collectives' timeout,
     * since writing a large model and its optimizer state can take minutes.
     */
    static final long CHECKPOINT_WAIT_MILLIS = 30 * 60_000L;

    private final Trainable trainable;
    private final List<TrainingStage> stages;
    private final long padId;
    private final FineTuneConfig config;
    private final TrainingOutput output;
    private final TrainingListener listener;
    private final List<BatchOrder<WeightedExample>> orders;
    private final Precision precision;
    private final int kernelThreads;
    private final TensorVector params;
    private final AdamW optimizer;
    /** The data-parallel group, or null on one process. */
    private final DataParallel dp;
    /** Whether this process writes files (rank 0, or the only process). */
    private final boolean writer;
    /** The checkpoint this run resumed from (never deleted by retention), or null. */
    private Path resumedFrom;
    /** The latest complete checkpoint, or null: what a diverged run leaves. */
    private Path lastGood;

    private FineTuner(Trainable trainable, List<TrainingStage> stages, long padId, FineTuneConfig config, TrainingOutput output,
            TrainingListener listenerOrNull, DataParallel dpOrNull) {
        this.dp = dpOrNull;
        this.writer = output.writes() && (dpOrNull == null || dpOrNull.rank() == 0);
        this.trainable = trainable;
        this.stages = stages;
        this.padId = padId;
        this.config = config;
        this.output = output;
        this.listener = listenerOrNull;
        this.orders = dataOrders(stages, config, dpOrNull == null ? 1 : dpOrNull.worldSize());
        Map<String, Tensor> named = trainable.trainableParameters();
        this.precision = config.precision().resolve(trainable.device());
        requireFp32MasterWeights(named);
        this.kernelThreads = config.deterministic() ? 1 : 0;
        this.params = new TensorVector(named.values().toArray(new Tensor[0]));
        AdamWOptions options = new AdamWOptions(config.lr(0));
        options.weight_decay().put(config.weightDecay());
        this.optimizer = new AdamW(params, options);
    }

    /**
     * Trains {@code trainable} in place, or continues from the latest checkpoint of {@code output} when it
     * asks to resume. Its trained tensors get {@code requires_grad} for the run and lose it after.
     *
     * @param stages   consecutive stages whose steps add up to {@link FineTuneConfig#steps()}
     * @param padId    the id right-padding fills batches with (never a target)
     * @param output   where checkpoints, metrics and the final model go, or {@link TrainingOutput#inMemory()}
     * @throws TrainingDivergedException on a NaN/Inf loss or gradient norm; the step is not applied and
     *                                   the last good checkpoint is left as it is
     */
    public static TrainResult train(Trainable trainable, List<TrainingStage> stages, long padId, FineTuneConfig config,
            TrainingOutput output, TrainingListener listenerOrNull) throws IOException {
        return train(trainable, stages, padId, config, output, listenerOrNull, null);
    }

    /**
     * {@link #train(Trainable, List, long, FineTuneConfig, TrainingOutput, TrainingListener)} as one rank of
     * a data-parallel job ({@code dpOrNull}; null: one process). Every rank must be given the same model,
     * stages, configuration and output directory; the global step holds {@code microBatch·gradAccum·worldSize}
     * examples. Only rank 0 writes to {@code output}.
     *
     * @throws dev.linchpin.distributed.DistributedException when another rank fails or the ranks disagree
     */
    public static TrainResult train(Trainable trainable, List<TrainingStage> stages, long padId, FineTuneConfig config,
            TrainingOutput output, TrainingListener listenerOrNull, DataParallel dpOrNull) throws IOException {
        int total = 0;
        for (TrainingStage s : stages) total += s.steps();
        if (total != config.steps()) throw new IllegalArgumentException("stages have " + total + " steps, config says " + config.steps());
        if (output == null) throw new IllegalArgumentException("output is null; use TrainingOutput.inMemory() to write nothing");
        Loader.load(torch.class);
        torch.set_num_threads(config.threads());
        return new FineTuner(trainable, stages, padId, config, output, listenerOrNull, dpOrNull).run();
    }

    private TrainResult run() throws IOException {
        int start = resumeOrStartOver();
        if (dp != null) {
            dp.requireSame("the step to start from", start);
            dp.requireSame("the initial weights' checksum", checksum());
        }
        double[] losses = new double[config.steps() - start], norms = new double[config.steps() - start];
        long tokens = 0;
        long t0 = System.nanoTime();
        trainable.requiresGrad(true);
        try (Writer metrics = openMetrics()) {
            for (int step = start; step < config.steps(); step++) {
                StepMetrics m = step(step);
                losses[step - start] = m.loss();
                norms[step - start] = m.gradNorm();
                tokens += m.trainedTokens();
                appendMetrics(metrics, m);
                if (listener != null) listener.onStep(m);
                boolean last = step + 1 == config.steps();
                if (output.writes() && ((config.checkpointEvery() > 0 && (step + 1) % config.checkpointEvery() == 0) || last)) {
                    if (dp != null) dp.requireSame("the weights' checksum after step " + (step + 1), checksum());
                    if (writer) checkpoint(step + 1);
                    if (dp != null) dp.awaitAll("waiting for rank 0 to write checkpoint-" + (step + 1), CHECKPOINT_WAIT_MILLIS);
                }
            }
        } finally {
            trainable.requiresGrad(false);
            optimizer.zero_grad(true);
        }
        exportFinal();
        return new TrainResult(losses, norms, tokens, (System.nanoTime() - t0) / 1e9);
    }

    /** One data order per stage, over the stage's examples that have a trainable token, dealing global steps. */
    private static List<BatchOrder<WeightedExample>> dataOrders(List<TrainingStage> stages, FineTuneConfig config, int worldSize) {
        List<BatchOrder<WeightedExample>> orders = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            List<WeightedExample> usable = stages.get(i).data().stream().filter(e -> e.trainableTokens() > 0).toList();
            if (usable.isEmpty()) throw new IllegalArgumentException("stage " + stages.get(i).name() + ": no example has a trainable token");
            orders.add(new BatchOrder<>(usable, WeightedExample::length, config.stepExamples() * worldSize, config.seed() + i));
        }
        return orders;
    }

    /**
     * The first step to run: 0 for a fresh run (an old metrics file is removed), or the step of the latest
     * checkpoint, whose tensors and optimizer state are restored, whose data order is replayed, and past
     * which metrics lines (steps that will run again) are dropped. Every rank of a data-parallel run reads
     * the checkpoint; only rank 0 touches the metrics file.
     */
    private int resumeOrStartOver() throws IOException {
        if (!output.writes()) return 0;
        Path metrics = output.dir().resolve(METRICS);
        Files.createDirectories(output.dir());
        if (!output.resume()) {
            if (writer) Files.deleteIfExists(metrics);
            lastGood = Checkpoints.latest(output.dir());
            return 0;
        }
        Path ckpt = Checkpoints.latest(output.dir());
        int start = 0;
        if (ckpt != null) {
            com.fasterxml.jackson.databind.JsonNode state = Checkpoints.state(ckpt);
            start = state.get("step").asInt();
            if (start > config.steps()) throw new IllegalArgumentException(ckpt + " is past the configured " + config.steps() + " steps");
            int savedWorld = state.path(WORLD_SIZE).asInt(1), world = dp == null ? 1 : dp.worldSize();
            if (savedWorld != world) {
                throw new IllegalArgumentException(ckpt + " was written by a run of " + savedWorld + " process" + (savedWorld == 1 ? "" : "es")
                        + " and this run has " + world + ": the data order and the batch of each step depend on the number of processes, "
                        + "so resume with " + savedWorld + " (--nproc " + savedWorld + " or WORLD_SIZE=" + savedWorld + "), or start over in a new --out");
            }
            Checkpoints.restore(ckpt, trainable, optimizer);
            resumedFrom = ckpt;
            for (int s = 0; s < start; s++) orders.get(stageOf(s)).next();   // replay the data order
            if (writer) keepMetricsUpTo(metrics, start);
        }
        lastGood = ckpt;
        return start;
    }

    /**
     * One optimizer step (0-based {@code step}): the learning rate, the step's examples, their
     * {@link StepTotals}, forward + backward of every micro-batch, clipping and the AdamW update.
     *
     * @throws TrainingDivergedException before the update when the loss or the gradient norm is not finite
     */
    private StepMetrics step(int step) {
        double lr = config.lr(step);
        long stepStart = System.nanoTime();
        int stage = stageOf(step);
        try (PointerScope scope = new PointerScope()) {
            optimizer.param_groups().get(0).options().set_lr(lr);
            optimizer.zero_grad(true);
            List<WeightedExample> examples = orders.get(stage).next();
            if (dp != null) examples = slice(examples, dp.rank(), dp.worldSize());
            long responseTokens = 0;
            for (WeightedExample e : examples) responseTokens += e.response().length;
            StepTotals totals = StepTotals.of(examples);
            long commBefore = dp == null ? 0 : dp.communicationNanos();
            if (dp != null) {   // the global denominators, before any loss is scaled
                long[] global = dp.sum("the sum of step " + (step + 1) + "'s token counts", totals.tokens(), totals.sequences(), responseTokens);
                totals = new StepTotals(global[0], global[1]);
                responseTokens = global[2];
            }
            double loss = accumulate(trainable, examples, padId, config, totals, kernelThreads, precision);
            if (dp != null) loss = sumOverRanks(step, loss);   // NaN on any rank: NaN on every rank, which all stop below
            if (!Double.isFinite(loss)) throw diverged(step, loss, lr);
            if (dp != null) dp.sumGradients("the all-reduce of step " + (step + 1) + "'s gradients", paramList());   // before clipping: the global norm
            double norm = torch.clip_grad_norm_(params, config.maxGradNorm() > 0 ? config.maxGradNorm() : Double.MAX_VALUE);
            if (!Double.isFinite(norm)) throw diverged(step, norm, lr);
            optimizer.step();
            double seconds = Math.max(1e-9, (System.nanoTime() - stepStart) / 1e9);
            double commSeconds = dp == null ? 0 : (dp.communicationNanos() - commBefore) / 1e9;
            return new StepMetrics(step + 1, config.steps(), stages.get(stage).name(), loss, lr, norm, totals.tokens(), responseTokens,
                    seconds, commSeconds);
        }
    }

    /**
     * Rank {@code rank}'s share of a global step: the examples at positions {@code rank, rank + world, ...}.
     * The ranks' shares are disjoint and together the whole step; dealing every world-th example (rather
     * than contiguous blocks) spreads the length-sorted groups of {@link BatchOrder} evenly over the ranks.
     */
    static <E> List<E> slice(List<E> step, int rank, int world) {
        if (step.size() % world != 0) throw new IllegalArgumentException(step.size() + " examples do not split over " + world + " ranks");
        List<E> mine = new ArrayList<>(step.size() / world);
        for (int i = rank; i < step.size(); i += world) mine.add(step.get(i));
        return mine;
    }

    /**
     * The step loss summed over the ranks, with the count of trained tensors holding a gradient: every
     * rank must sum the same tensors' gradients, or the buckets would not line up.
     */
    private double sumOverRanks(int step, double localLoss) {
        int withGrad = 0;
        for (Tensor p : paramList()) if (p.grad().defined()) withGrad++;
        double[] global = dp.sum("the sum of step " + (step + 1) + "'s loss", localLoss, withGrad);
        if (global[1] != (double) withGrad * dp.worldSize()) {
            throw new DistributedException("rank " + dp.rank() + ": " + withGrad + " trained tensors have a gradient here, but not on every rank ("
                    + global[1] + " over " + dp.worldSize() + " ranks); the ranks do not train the same model");
        }
        return global[0];
    }

    private List<Tensor> paramList() {
        List<Tensor> out = new ArrayList<>((int) params.size());
        for (long i = 0; i < params.size(); i++) out.add(params.get(i));
        return out;
    }

    /** Σ of every trained tensor's elements, in float64: cheap evidence that the ranks hold the same weights. */
    private double checksum() {
        double sum = 0;
        try (PointerScope scope = new PointerScope(); org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
            for (Tensor p : paramList()) sum += p.to(ScalarType.Double).sum().item_double();
        }
        return sum;
    }

    /**
     * Runs a step's examples as {@code gradAccum} micro-batches of {@code microBatch}, each normalised by
     * the step's {@code totals}, adding every micro-batch's gradient into the trainable tensors'
     * {@code .grad}. Returns the step loss (the sum of the micro-batch losses), or the first non-finite
     * micro-batch loss, in which case no gradient of that micro-batch was added.
     */
    static double accumulate(Trainable trainable, List<WeightedExample> examples, long padId, FineTuneConfig config,
            StepTotals totals, int kernelThreads, Precision precision) {
        double loss = 0;
        for (int m = 0; m < config.gradAccum(); m++) {
            List<WeightedExample> micro = examples.subList(m * config.microBatch(), (m + 1) * config.microBatch());
            WeightedBatch batch = WeightedBatch.of(micro, padId, config.normalization(), totals.tokens(), totals.sequences());
            MaskedCeResult r = ObjectiveLoss.compute(trainable.forwardModel(), batch, config.dft(), kernelThreads, precision);
            double part = r.lossValue();
            if (!Double.isFinite(part)) return part;
            loss += part;
            r.backward();
        }
        return loss;
    }

    /** {@link #accumulate} of one rank's step in the configured precision (tests). */
    static double accumulate(Trainable trainable, List<WeightedExample> examples, long padId, FineTuneConfig config, int kernelThreads) {
        return accumulate(trainable, examples, padId, config, StepTotals.of(examples), kernelThreads,
                config.precision().resolve(trainable.device()));
    }

    /** The metrics file, appended to (null when nothing is written). */
    private Writer openMetrics() throws IOException {
        if (!writer) return null;
        return Files.newBufferedWriter(output.dir().resolve(METRICS), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    /** One line of {@code metrics.jsonl}, flushed (a killed run keeps every finished step's line). */
    private static void appendMetrics(Writer metrics, StepMetrics m) throws IOException {
        if (metrics == null) return;
        ObjectNode line = JSON.createObjectNode();
        line.put("step", m.stepsDone());
        line.put("stage", m.stage());
        line.put("loss", m.loss());
        line.put("lr", m.lr());
        line.put("grad_norm", m.gradNorm());
        line.put("tokens_per_s", m.tokensPerSecond());
        line.put("trained_token_fraction", m.trainedTokenFraction());
        line.put("step_s", m.seconds());
        if (m.allReduceSeconds() > 0) line.put("allreduce_s", m.allReduceSeconds());   // data-parallel runs only
        metrics.write(JSON.writeValueAsString(line) + "\n");
        metrics.flush();
    }

    /** Writes {@code checkpoint-<stepsDone>/} (retention as configured) and tells the listener. */
    private void checkpoint(int stepsDone) throws IOException {
        trainable.requiresGrad(false);
        ObjectNode extra = JSON.createObjectNode();
        extra.put("total_steps", config.steps());
        extra.put("seed", config.seed());
        extra.put("precision", precision.name().toLowerCase(Locale.ROOT));
        if (dp != null) extra.put(WORLD_SIZE, dp.worldSize());   // absent: one process
        lastGood = Checkpoints.save(output.dir(), stepsDone, trainable, optimizer, output.tokenizerDir(), extra,
                config.keepCheckpoints(), resumedFrom);
        trainable.requiresGrad(true);
        if (listener != null) listener.onCheckpoint(lastGood, stepsDone);
    }

    /** Writes {@code final/} atomically: into a temporary sibling, then renamed. */
    private void exportFinal() throws IOException {
        if (!writer) return;
        Path finalDir = output.dir().resolve("final"), tmp = output.dir().resolve(".tmp-final");
        Checkpoints.deleteTree(tmp);
        trainable.exportModel().save(tmp, output.tokenizerDir());
        Checkpoints.deleteTree(finalDir);
        Files.move(tmp, finalDir, StandardCopyOption.ATOMIC_MOVE);
        if (trainable instanceof LoraModel lora) PeftAdapters.exportBeside(lora, output.dir(), output.tokenizerDir());   // + PEFT's layout
    }

    /**
     * Mixed precision keeps fp32 master weights: AdamW's moments take the dtype of the tensors they update,
     * and bf16 weights would lose updates smaller than 2^-8 of the weight.
     */
    private static void requireFp32MasterWeights(Map<String, Tensor> named) {
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            ScalarType t = e.getValue().scalar_type().intern();
            if (t != ScalarType.Float) {
                throw new IllegalArgumentException("trained tensor '" + e.getKey() + "' is " + t
                        + ": training keeps fp32 master weights (load the model as float32; --precision bf16 casts in the forward)");
            }
        }
    }

    private int stageOf(int step) {
        int end = 0;
        for (int i = 0; i < stages.size(); i++) {
            end += stages.get(i).steps();
            if (step < end) return i;
        }
        throw new IllegalStateException("step " + step + " past the last stage");
    }

    private TrainingDivergedException diverged(int step, double value, double lr) {
        String left = !output.writes() ? "nothing was written; the model holds the weights of the previous step"
                : lastGood == null ? "no checkpoint was written yet" : "the last good checkpoint is " + lastGood;
        return new TrainingDivergedException(step, value, lr, left);
    }

    /** On resume: drops metric lines of steps after the checkpoint (they will be trained again). */
    private static void keepMetricsUpTo(Path metrics, int step) throws IOException {
        if (!Files.exists(metrics)) return;
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            try {
                if (JSON.readTree(line).path("step").asInt(Integer.MAX_VALUE) <= step) kept.add(line);
            } catch (IOException e) {
                break;   // a torn last line from a killed run
            }
        }
        Files.write(metrics, kept.isEmpty() ? new byte[0] : (String.join("\n", kept) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
