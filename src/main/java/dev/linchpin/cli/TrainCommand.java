package dev.linchpin.cli;

import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.distributed.Rendezvous;
import dev.linchpin.options.PromptOptions;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.Normalization;
import dev.linchpin.train.Objective;
import dev.linchpin.train.Precision;
import dev.linchpin.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 *
 * <p>Data-parallel: a process started by a launcher (torchrun's convention) finds its place in the
 * environment, {@value #RANK}, {@value #WORLD_SIZE}, {@value #MASTER_ADDR}, {@value #MASTER_PORT} and
 * {@value #LOCAL_RANK}, read here and handed down as a {@link Rendezvous} (jobs never read the
 * environment); {@code --nproc N} is such a launcher for the ranks of one host ({@link LocalRanks}).
 * Ranks other than 0 print only errors.
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
    /** torchrun's environment: this process's rank, the number of processes, rank 0's store, the rank on this host. */
    static final String RANK = "RANK", WORLD_SIZE = "WORLD_SIZE", MASTER_ADDR = "MASTER_ADDR", MASTER_PORT = "MASTER_PORT",
            LOCAL_RANK = "LOCAL_RANK";

    /** The environment the rank variables are read from (tests replace it). */
    Map<String, String> environment = System.getenv();

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
    @Option(names = "--nproc", defaultValue = "1", description = "Data-parallel processes to start on this host (ranks 0..N-1 on 127.0.0.1, like torchrun "
            + "--nproc-per-node); each trains 1/N of every global step of batch-size x grad-accum x N sequences. Processes started by another launcher "
            + "read RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT and LOCAL_RANK from the environment instead (default: ${DEFAULT-VALUE}).")
    int nproc;
    @Option(names = "--dist-timeout", defaultValue = "300", description = "Data-parallel: seconds a rank waits for the others in any all-reduce before it "
            + "stops with an error (a rank that dies stops the others at once); joining waits at least 5 minutes (default: ${DEFAULT-VALUE}).")
    int distTimeout;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws IOException, InterruptedException {
        config.checkKeys(spec);
        if (model == null) throw new IllegalArgumentException("--model is required (a directory or 'default')");
        if (out == null) throw new IllegalArgumentException("--out is required");
        Objective kind = Objective.parse(objective);
        Rendezvous rendezvous = rendezvous();
        if (nproc < 1) throw new IllegalArgumentException("--nproc must be >= 1, got " + nproc);
        if (nproc > 1 && rendezvous != null) {
            throw new IllegalArgumentException("--nproc " + nproc + " starts its own ranks, but this process already is rank " + rendezvous.rank()
                    + " of " + rendezvous.worldSize() + " (WORLD_SIZE is set): use one launcher");
        }
        boolean quiet = rendezvous != null && rendezvous.rank() > 0;   // rank 0 reports for the job
        Progress bars = progress.on(spec.commandLine().getErr());
        Path modelDir = model.equals("default") ? EmbeddedDefault.ensure(DefaultConfig.standard(), bars) : Path.of(model);
        if (nproc > 1) {   // the default model is cached now: the ranks do not race to train it
            int status = LocalRanks.run(spec.root().commandLine().getParseResult().originalArgs(), nproc, distTimeout * 1000L,
                    spec.commandLine().getOut(), spec.commandLine().getErr());
            if (status != 0) throw new DataParallelFailure(nproc, status);
            return 0;
        }
        if (data == null && model.equals("default")) data = modelDir.resolve("data/train.jsonl");
        TrainingRun.Settings settings = settings(modelDir, kind);
        TrainingRun.run(settings, quiet ? ProgressListener.silent() : bars);
        if (!quiet) spec.commandLine().getOut().println("wrote " + out.resolve("final") + " and " + out.resolve("metrics.jsonl"));
        return 0;
    }

    /** A rank of {@code --nproc} failed; its own error was forwarded above this one. */
    static final class DataParallelFailure extends RuntimeException implements dev.linchpin.UserError {
        DataParallelFailure(int nproc, int status) {
            super("data-parallel training on " + nproc + " processes failed (first failed rank's exit status " + status + "; its error is above)");
        }
    }

    /**
     * This process's place in a data-parallel job, from torchrun's environment variables, or null when
     * {@value #WORLD_SIZE} is unset or 1.
     */
    Rendezvous rendezvous() {
        String world = environment.get(WORLD_SIZE);
        if (world == null || world.isBlank() || envInt(WORLD_SIZE, world) == 1) return null;
        int n = envInt(WORLD_SIZE, world);
        int rank = envInt(RANK, required(RANK));
        String addr = required(MASTER_ADDR);
        int port = envInt(MASTER_PORT, required(MASTER_PORT));
        String local = environment.get(LOCAL_RANK);
        int localRank = local == null || local.isBlank() ? 0 : envInt(LOCAL_RANK, local);
        if (distTimeout < 1) throw new IllegalArgumentException("--dist-timeout must be >= 1 second, got " + distTimeout);
        return new Rendezvous(rank, n, addr.strip(), port, localRank, Duration.ofSeconds(distTimeout));
    }

    private String required(String name) {
        String v = environment.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("WORLD_SIZE=" + environment.get(WORLD_SIZE) + " asks for data-parallel training, but " + name
                    + " is not set (a launcher sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; or use --nproc N on one host)");
        }
        return v;
    }

    private static int envInt(String name, String value) {
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("environment variable " + name + " must be an integer, got '" + value + "'");
        }
    }

    /** The job these options describe. */
    TrainingRun.Settings settings(Path modelDir, Objective kind) {
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        FineTuneConfig cfg = FineTuneConfig.builder(steps).batch(batchSize, gradAccum).learningRate(lr, warmup)
                .schedule(FineTuneConfig.Schedule.parse(schedule), minLrRatio).weightDecay(weightDecay).maxGradNorm(maxGradNorm)
                .seed(seed).threads(nThreads).deterministic(deterministic).normalization(Normalization.parse(normalization))
                .checkpointEvery(saveEvery).keepCheckpoints(keepCheckpoints).precision(Precision.parse(precision)).build();
        Rendezvous rendezvous = rendezvous();
        String deviceName = deviceName(device);
        if (rendezvous != null && deviceName.startsWith("cuda")) deviceName = "cuda:" + rendezvous.localRank();   // one GPU per rank of a host
        Device target = new Device(deviceName);
        if (data == null) throw new IllegalArgumentException("--data is required");
        if (kind.needsMasks() && masks == null) throw new IllegalArgumentException("--masks is required for --objective " + objective);
        return TrainingRun.Settings.builder(modelDir, kind, out).data(data, prompts.format())
                .prompts(prompts.style(), prompts.template(), prompts.systemPrompt()).masks(masks).config(cfg)
                .sftKeyStage1Steps(stage1Steps).lora(new TrainingRun.Lora(loraRank, loraAlpha, loraTargets)).device(target)
                .resume(resume).dataParallel(rendezvous).build();
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
