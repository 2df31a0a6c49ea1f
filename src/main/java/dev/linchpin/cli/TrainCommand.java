package dev.linchpin.cli;

import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.Normalization;
import dev.linchpin.train.Objective;
import dev.linchpin.train.Precision;
import dev.linchpin.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin train}: parses the options into a {@link TrainingRun} (one objective: sft, cft, sftkey,
 * dft, random or numeric; fully or with LoRA; CPU or CUDA; fp32 or bf16 autocast) and runs it, writing
 * checkpoints, metrics and the final model under {@code --out}. {@code --model default} is the embedded
 * default model, trained first when not cached.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune a model: every objective is a per-token weight on response tokens (EOS included) "
                + "through the fused masked linear-CE kernel.",
                "Writes OUT/checkpoint-<step>/ (Hugging Face layout + optimizer state), OUT/metrics.jsonl and OUT/final/; "
                + "--resume continues from the latest checkpoint.",
                "Full fine-tuning or LoRA (--lora-rank > 0; final/ holds merged weights). --device cuda with --precision bf16|auto "
                + "runs the forward under bf16 autocast; master weights and AdamW state stay fp32."})
public final class TrainCommand implements Callable<Integer> {
    /** Under --out: the model's tokenizer with the SFTKey tags added, when it lacked them. */
    public static final String SFTKEY_TOKENIZER = TrainingRun.SFTKEY_TOKENIZER;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption config;
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory, or 'default' for the embedded default model.")
    String model;
    @Option(names = "--data", paramLabel = "FILE", description = "JSONL data (gsm8k, math, prompt-completion, messages); for cft/random the prompts of the masks' ids.")
    Path data;
    @Option(names = "--masks", paramLabel = "FILE", description = "Masks file from linchpin mine (cft, random).")
    Path masks;
    @Option(names = "--out", paramLabel = "DIR", description = "Output directory.")
    Path out;
    @Option(names = "--objective", defaultValue = "sft", description = "sft, cft, sftkey, dft, random or numeric (default: ${DEFAULT-VALUE}).")
    String objective;
    @Mixin
    PromptOptions prompts;
    @Option(names = "--steps", defaultValue = "100", description = "Optimizer steps, all stages (default: ${DEFAULT-VALUE}).")
    int steps;
    @Option(names = "--stage1-steps", defaultValue = "-1", description = "sftkey: steps of stage 1 (full SFT); the rest is stage 2 (answer span); -1: half (default: ${DEFAULT-VALUE}).")
    int stage1Steps;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per micro-batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--grad-accum", defaultValue = "1", description = "Micro-batches per optimizer step (default: ${DEFAULT-VALUE}).")
    int gradAccum;
    @Option(names = "--lr", defaultValue = "1e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--warmup-steps", defaultValue = "0", description = "Linear warmup steps (default: ${DEFAULT-VALUE}).")
    int warmup;
    @Option(names = "--schedule", defaultValue = "cosine", description = "cosine or linear decay (default: ${DEFAULT-VALUE}).")
    String schedule;
    @Option(names = "--min-lr-ratio", defaultValue = "0", description = "Final lr / peak lr (default: ${DEFAULT-VALUE}).")
    double minLrRatio;
    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--max-grad-norm", defaultValue = "1", description = "Gradient clipping norm; 0: off (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;
    @Option(names = "--normalization", defaultValue = "token-mean", description = "token-mean, sequence-mean or sum (default: ${DEFAULT-VALUE}).")
    String normalization;
    @Option(names = "--seed", defaultValue = "0", description = "Data order, random masks, LoRA init (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--threads", defaultValue = "0", description = "libtorch threads; 0: all cores (default: ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--deterministic", defaultValue = "false", description = "One-thread loss kernel: bit-reproducible weights (default: ${DEFAULT-VALUE}).")
    boolean deterministic;
    @Option(names = "--save-every", defaultValue = "0", description = "Checkpoint every N steps (and after the last); 0: only the last (default: ${DEFAULT-VALUE}).")
    int saveEvery;
    @Option(names = "--resume", defaultValue = "false", description = "Continue from the latest checkpoint in --out (default: ${DEFAULT-VALUE}).")
    boolean resume;
    @Option(names = "--lora-rank", defaultValue = "0", description = "LoRA rank; 0: full fine-tuning. With sftkey, tag tokens added to the vocabulary also train their "
            + "embedding (and untied lm_head) rows (default: ${DEFAULT-VALUE}).")
    int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (default: ${DEFAULT-VALUE}).")
    double loraAlpha;
    @Option(names = "--lora-targets", defaultValue = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", split = ",",
            description = "LoRA target modules (default: ${DEFAULT-VALUE}).")
    List<String> loraTargets;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (needs libtorch's CUDA build, -Pgpu, and the CUDA backend) (default: ${DEFAULT-VALUE}).")
    String device;
    @Option(names = "--precision", defaultValue = "auto", description = "fp32, bf16 or auto: the forward under bf16 autocast, "
            + "master weights and AdamW state fp32 either way; auto = bf16 on a CUDA GPU of compute capability 8.0+, else fp32 (default: ${DEFAULT-VALUE}).")
    String precision;
    @Option(names = "--keep-checkpoints", defaultValue = "1", description = "Keep the latest N checkpoint-<step>/ directories "
            + "(the one a --resume started from is never deleted) (default: ${DEFAULT-VALUE}).")
    int keepCheckpoints;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws IOException {
        config.checkKeys(spec);
        if (model == null) throw new IllegalArgumentException("--model is required (a directory or 'default')");
        if (out == null) throw new IllegalArgumentException("--out is required");
        Objective kind = Objective.parse(objective);
        Progress bars = progress.on(spec.commandLine().getErr());
        Path modelDir = model.equals("default") ? EmbeddedDefault.ensure(DefaultConfig.standard(), bars) : Path.of(model);
        if (data == null && model.equals("default")) data = modelDir.resolve("data/train.jsonl");
        TrainingRun.Settings settings = settings(modelDir, kind);
        TrainingRun.run(settings, bars);
        spec.commandLine().getOut().println("wrote " + out.resolve("final") + " and " + out.resolve("metrics.jsonl"));
        return 0;
    }

    /** The job these options describe. */
    TrainingRun.Settings settings(Path modelDir, Objective kind) {
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        FineTuneConfig cfg = FineTuneConfig.builder(steps).batch(batchSize, gradAccum).learningRate(lr, warmup)
                .schedule(FineTuneConfig.Schedule.parse(schedule), minLrRatio).weightDecay(weightDecay).maxGradNorm(maxGradNorm)
                .seed(seed).threads(nThreads).deterministic(deterministic).normalization(Normalization.parse(normalization))
                .checkpointEvery(saveEvery).keepCheckpoints(keepCheckpoints).precision(Precision.parse(precision)).build();
        Device target = new Device(deviceName(device));
        if (data == null) throw new IllegalArgumentException("--data is required");
        if (kind.needsMasks() && masks == null) throw new IllegalArgumentException("--masks is required for --objective " + objective);
        return TrainingRun.Settings.builder(modelDir, kind, out).data(data, prompts.format())
                .prompts(prompts.style(), prompts.promptTemplate, prompts.systemPrompt).masks(masks).config(cfg)
                .sftKeyStage1Steps(stage1Steps).lora(new TrainingRun.Lora(loraRank, loraAlpha, loraTargets)).device(target)
                .resume(resume).build();
    }

    /**
     * The training device's libtorch name; CUDA only where libtorch has it and the fused kernel's CUDA
     * backend loaded. (A String, not a libtorch Device: picocli reflects over every method signature of
     * every subcommand, and {@code mine}/{@code eval} must start where libtorch is absent.)
     */
    static String deviceName(String name) {
        switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "cpu":
                return "cpu";
            case "cuda":
                boolean torchCuda;
                try {
                    torchCuda = org.bytedeco.pytorch.global.torch.cuda_is_available();
                } catch (Throwable t) {
                    torchCuda = false;
                }
                if (!torchCuda) {
                    throw new IllegalArgumentException("--device cuda: this libtorch has no usable CUDA (the default org.bytedeco:pytorch "
                            + "jar is the CPU build; build with -Pgpu on a machine with an NVIDIA driver and GPU)");
                }
                if (!dev.linchpin.nativ.CudaBackend.isAvailable()) {
                    throw new IllegalArgumentException("--device cuda: the fused loss kernel's CUDA backend is unavailable: "
                            + dev.linchpin.nativ.CudaBackend.unavailabilityReason());
                }
                return "cuda:0";
            default:
                throw new IllegalArgumentException("--device must be cpu or cuda, got '" + name + "'");
        }
    }
}
