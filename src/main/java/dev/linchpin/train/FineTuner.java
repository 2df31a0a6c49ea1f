package dev.linchpin.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.kernels.MaskedCeResult;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The fine-tuning loop of {@code linchpin train}: stages of weighted examples ({@link TrainingStage}),
 * gradient accumulation with step-global normalisation ({@link WeightedBatch}), AdamW with warmup +
 * cosine/linear decay, global-norm clipping, seeded data order, checkpoints with exact resume, metrics
 * JSONL, and a hard stop on a non-finite loss or gradient norm.
 *
 * <p>Data order: per stage, {@link Trainer.BatchOrder} seeded with {@code seed + stage index} deals
 * {@code microBatch·gradAccum} examples per step, which are then cut into micro-batches; so the examples
 * of a step do not depend on how it is split, and accumulation over k micro-batches equals one batch
 * (up to float summation order). Resume replays the order up to the checkpoint's step.
 *
 * <p>Precision ({@link FineTuneConfig#precision()}): the trained tensors must be fp32 (master weights)
 * and AdamW's moments are fp32 with them; under {@link Precision#BF16} only the model's forward runs in
 * bf16 autocast ({@link ObjectiveLoss}). The resolved precision is recorded in each checkpoint's state.
 *
 * <p>Outputs under {@code outDir}: {@code checkpoint-<step>/} ({@link Checkpoints}), {@code metrics.jsonl}
 * (one line per step: step, stage, loss, lr, grad_norm, tokens_per_s, trained_token_fraction), and
 * {@code final/} (Hugging Face layout; merged weights for LoRA), and for LoRA {@code adapter/} (the adapters alone in
 * PEFT's layout, {@link PeftAdapters}).
 */
public final class FineTuner {
    /** Called after every step. */
    @FunctionalInterface
    public interface StepListener {
        void onStep(int step, int totalSteps, double loss, double lr, double gradNorm);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private FineTuner() {}

    /**
     * Trains, or continues from the latest checkpoint in {@code outDir} when {@code resume} is set.
     *
     * @param tokenizerDirOrNull tokenizer files copied into every checkpoint and the final model
     * @throws TrainingDivergedException on a NaN/Inf loss or gradient norm; the step is not applied and
     *                                   the last good checkpoint is left as it is
     */
    public static TrainResult train(Trainable trainable, List<TrainingStage> stages, long padId, FineTuneConfig config,
            Path outDir, Path tokenizerDirOrNull, boolean resume, StepListener listenerOrNull) throws IOException {
        int total = 0;
        for (TrainingStage s : stages) total += s.steps();
        if (total != config.steps()) throw new IllegalArgumentException("stages have " + total + " steps, config says " + config.steps());
        Loader.load(torch.class);
        torch.set_num_threads(config.threads());
        List<Trainer.BatchOrder<WeightedExample>> orders = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            List<WeightedExample> usable = stages.get(i).data().stream().filter(e -> e.trainableTokens() > 0).toList();
            if (usable.isEmpty()) throw new IllegalArgumentException("stage " + stages.get(i).name() + ": no example has a trainable token");
            orders.add(new Trainer.BatchOrder<>(usable, WeightedExample::length, config.stepExamples(), config.seed() + i));
        }
        Map<String, Tensor> named = trainable.trainableParameters();
        Precision precision = config.precision().resolve(trainable.device());
        requireFp32MasterWeights(named);
        TensorVector params = new TensorVector(named.values().toArray(new Tensor[0]));
        AdamWOptions options = new AdamWOptions(config.lr(0));
        options.weight_decay().put(config.weightDecay());
        AdamW optimizer = new AdamW(params, options);

        int start = 0;
        Path resumedFrom = null;
        Path metrics = outDir.resolve("metrics.jsonl");
        Files.createDirectories(outDir);
        if (resume) {
            Path ckpt = Checkpoints.latest(outDir);
            if (ckpt != null) {
                start = Checkpoints.state(ckpt).get("step").asInt();
                if (start > config.steps()) throw new IllegalArgumentException(ckpt + " is past the configured " + config.steps() + " steps");
                Checkpoints.restore(ckpt, trainable, optimizer);
                resumedFrom = ckpt;
                for (int s = 0; s < start; s++) orders.get(stageOf(stages, s)).next();   // replay the data order
                keepMetricsUpTo(metrics, start);
            }
        } else {
            Files.deleteIfExists(metrics);
        }

        double[] losses = new double[config.steps() - start], norms = new double[config.steps() - start];
        long tokens = 0;
        long t0 = System.nanoTime();
        trainable.requiresGrad(true);
        int kernelThreads = config.deterministic() ? 1 : 0;
        Path lastGood = Checkpoints.latest(outDir);
        try (Writer metricsOut = Files.newBufferedWriter(metrics, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (int step = start; step < config.steps(); step++) {
                double lr = config.lr(step);
                long stepStart = System.nanoTime();
                int stage = stageOf(stages, step);
                long stepTokens = 0, responseTokens = 0;
                double loss;
                try (PointerScope scope = new PointerScope()) {
                    optimizer.param_groups().get(0).options().set_lr(lr);
                    optimizer.zero_grad(true);
                    List<WeightedExample> examples = orders.get(stage).next();
                    for (WeightedExample e : examples) {
                        stepTokens += e.trainableTokens();
                        responseTokens += e.response().length;
                    }
                    loss = accumulate(trainable, examples, padId, config, kernelThreads, precision);
                    if (!Double.isFinite(loss)) throw diverged(step, loss, lr, lastGood);
                    double norm = torch.clip_grad_norm_(params, config.maxGradNorm() > 0 ? config.maxGradNorm() : Double.MAX_VALUE);
                    if (!Double.isFinite(norm)) throw diverged(step, norm, lr, lastGood);
                    optimizer.step();
                    losses[step - start] = loss;
                    norms[step - start] = norm;
                    tokens += stepTokens;
                    double seconds = Math.max(1e-9, (System.nanoTime() - stepStart) / 1e9);
                    ObjectNode line = JSON.createObjectNode();
                    line.put("step", step + 1);
                    line.put("stage", stages.get(stage).name());
                    line.put("loss", loss);
                    line.put("lr", lr);
                    line.put("grad_norm", norm);
                    line.put("tokens_per_s", stepTokens / seconds);
                    line.put("trained_token_fraction", (double) stepTokens / responseTokens);
                    metricsOut.write(JSON.writeValueAsString(line) + "\n");
                    metricsOut.flush();
                }
                if (listenerOrNull != null) listenerOrNull.onStep(step, config.steps(), loss, lr, norms[step - start]);
                boolean last = step + 1 == config.steps();
                if ((config.checkpointEvery() > 0 && (step + 1) % config.checkpointEvery() == 0) || last) {
                    trainable.requiresGrad(false);
                    ObjectNode extra = JSON.createObjectNode();
                    extra.put("total_steps", config.steps());
                    extra.put("seed", config.seed());
                    extra.put("precision", precision.name().toLowerCase(java.util.Locale.ROOT));
                    lastGood = Checkpoints.save(outDir, step + 1, trainable, optimizer, tokenizerDirOrNull, extra,
                            config.keepCheckpoints(), resumedFrom);
                    trainable.requiresGrad(true);
                }
            }
        } finally {
            trainable.requiresGrad(false);
            optimizer.zero_grad(true);
        }
        Path finalDir = outDir.resolve("final"), tmp = outDir.resolve(".tmp-final");
        Checkpoints.deleteTree(tmp);
        trainable.exportModel().save(tmp, tokenizerDirOrNull);
        Checkpoints.deleteTree(finalDir);
        Files.move(tmp, finalDir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        if (trainable instanceof LoraModel lora) PeftAdapters.exportBeside(lora, outDir, tokenizerDirOrNull);   // + PEFT's layout
        return new TrainResult(losses, norms, tokens, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Runs the step's examples as {@code gradAccum} micro-batches of {@code microBatch}, each normalised by
     * the whole step's token and sequence counts, adding every micro-batch's gradient into the trainable
     * tensors' {@code .grad}. Returns the step loss (the sum of the micro-batch losses), or the first
     * non-finite micro-batch loss, in which case no gradient of that micro-batch was added.
     */
    static double accumulate(Trainable trainable, List<WeightedExample> examples, long padId, FineTuneConfig config, int kernelThreads) {
        return accumulate(trainable, examples, padId, config, kernelThreads, config.precision().resolve(trainable.device()));
    }

    static double accumulate(Trainable trainable, List<WeightedExample> examples, long padId, FineTuneConfig config, int kernelThreads,
            Precision precision) {
        long stepTokens = 0;
        for (WeightedExample e : examples) stepTokens += e.trainableTokens();
        double loss = 0;
        for (int m = 0; m < config.gradAccum(); m++) {
            List<WeightedExample> micro = examples.subList(m * config.microBatch(), (m + 1) * config.microBatch());
            WeightedBatch batch = WeightedBatch.of(micro, padId, config.normalization(), stepTokens, examples.size());
            MaskedCeResult r = ObjectiveLoss.compute(trainable.forwardModel(), batch, config.dft(), kernelThreads, precision);
            double part = r.lossValue();
            if (!Double.isFinite(part)) return part;
            loss += part;
            r.backward();
        }
        return loss;
    }

    /**
     * Mixed precision keeps fp32 master weights: AdamW's moments take the dtype of the tensors they update,
     * and bf16 weights would lose updates smaller than 2^-8 of the weight.
     */
    private static void requireFp32MasterWeights(Map<String, Tensor> named) {
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            org.bytedeco.pytorch.global.torch.ScalarType t = e.getValue().scalar_type().intern();
            if (t != org.bytedeco.pytorch.global.torch.ScalarType.Float) {
                throw new IllegalArgumentException("trained tensor '" + e.getKey() + "' is " + t
                        + ": training keeps fp32 master weights (load the model as float32; --precision bf16 casts in the forward)");
            }
        }
    }

    private static int stageOf(List<TrainingStage> stages, int step) {
        int end = 0;
        for (int i = 0; i < stages.size(); i++) {
            end += stages.get(i).steps();
            if (step < end) return i;
        }
        throw new IllegalStateException("step " + step + " past the last stage");
    }

    private static TrainingDivergedException diverged(int step, double value, double lr, Path lastGood) {
        return new TrainingDivergedException(step, value, lr, lastGood == null ? "no checkpoint was written yet"
                : "the last good checkpoint is " + lastGood);
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
