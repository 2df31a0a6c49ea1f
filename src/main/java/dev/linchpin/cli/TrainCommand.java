package dev.linchpin.cli;

import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.DatasetReader;
import dev.linchpin.data.Example;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.PromptEncoder;
import dev.linchpin.model.CausalLM;
import dev.linchpin.tokenizer.AddedTokens;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.FineTuneConfig;
import dev.linchpin.train.FineTuner;
import dev.linchpin.train.FullFineTune;
import dev.linchpin.train.LoraModel;
import dev.linchpin.train.MaskRecords;
import dev.linchpin.train.Normalization;
import dev.linchpin.train.Objectives;
import dev.linchpin.train.Trainable;
import dev.linchpin.train.TrainResult;
import dev.linchpin.train.TrainingStage;
import dev.linchpin.train.WeightedExample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin train}: fine-tune with one objective (sft, cft, sftkey, dft, random, numeric), fully or
 * with LoRA, on CPU or CUDA, fp32 or bf16 autocast, writing checkpoints, metrics and the final model under
 * {@code --out}. With LoRA and sftkey on a tokenizer that lacked the tags, the added tags' embedding rows
 * are trained too ({@link LoraModel}'s trainable token rows).
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
    public static final String SFTKEY_TOKENIZER = "tokenizer-sftkey";

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "YAML", description = "Run config: option defaults (keys = option names without dashes).")
    Path config;
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
    @Option(names = "--format", defaultValue = "auto", description = "Data format (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--prompt-format", defaultValue = "auto", description = "auto, base or chat; must match mining for cft/random (default: ${DEFAULT-VALUE}).")
    String promptFormat;
    @Option(names = "--prompt-template", description = "Base: the prompt template; chat: the user-message template; contains {question}.")
    String promptTemplate;
    @Option(names = "--system-prompt", description = "Chat: a system message put first.")
    String systemPrompt;
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
    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar or log (default: ${DEFAULT-VALUE}).")
    String progress;

    @Override
    public Integer call() throws IOException {
        if (config != null) YamlDefaults.load(config).checkKeys(spec);
        if (model == null) throw new IllegalArgumentException("--model is required (a directory or 'default')");
        if (out == null) throw new IllegalArgumentException("--out is required");
        Objectives.Kind kind = Objectives.Kind.parse(objective);
        boolean terminal = switch (progress) {
            case "auto" -> System.console() != null;
            case "bar" -> true;
            case "log" -> false;
            default -> throw new IllegalArgumentException("--progress must be auto, bar or log, got '" + progress + "'");
        };
        Progress bars = new Progress(spec.commandLine().getErr(), terminal, System::nanoTime, 10_000_000_000L);
        Path modelDir = model.equals("default") ? EmbeddedDefault.ensure(DefaultConfig.standard(), bars) : Path.of(model);
        if (data == null && model.equals("default")) data = modelDir.resolve("data/train.jsonl");
        if (!Files.isDirectory(modelDir)) throw new IOException(modelDir + ": model directory not found");
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        FineTuneConfig cfg = new FineTuneConfig(steps, batchSize, gradAccum, lr, warmup, FineTuneConfig.Schedule.parse(schedule),
                minLrRatio, weightDecay, maxGradNorm, seed, nThreads, deterministic, Normalization.parse(normalization),
                kind == Objectives.Kind.DFT, saveEvery, keepCheckpoints, dev.linchpin.train.Precision.parse(precision));
        Device target = new Device(deviceName(device));
        Path tokenizerDir = kind == Objectives.Kind.SFTKEY ? sftKeyTokenizer(modelDir) : modelDir;
        try (Tokenizer tokenizer = Tokenizer.load(tokenizerDir)) {
            List<TrainingStage> stages = stages(kind, tokenizer);
            CausalLM base = CausalLM.load(modelDir, target, ScalarType.Float);   // fp32 master weights whatever --precision
            // New tag ids past the embedding get mean-initialised rows; a model whose embedding is already
            // larger than its tokenizer (Qwen pads to a multiple of 128) keeps its size, the tags take spare rows.
            if (tokenizer.vocabSize() > base.config().vocabSize()) base = base.resizeTokenEmbeddings(Math.toIntExact(tokenizer.vocabSize()));
            // LoRA freezes the embedding, so the added tags' rows (still the mean row) are trained as well.
            Trainable trainable = loraRank > 0 ? new LoraModel(base, loraRank, loraAlpha, loraTargets, seed, addedTokenIds)
                    : new FullFineTune(base);
            long pad = tokenizer.padTokenId() != null ? tokenizer.padTokenId() : eos(tokenizer);
            Progress.Task bar = bars.start("train " + kind.name().toLowerCase(Locale.ROOT), steps);
            TrainResult r = FineTuner.train(trainable, stages, pad, cfg, out, tokenizerDir, resume,
                    (step, total, loss, rate, norm) -> bar.update(step + 1, String.format(Locale.ROOT, "loss %.4f lr %.2e |g| %.3f", loss, rate, norm)));
            bar.finish(r.losses().length == 0 ? "nothing left to train" : String.format(Locale.ROOT, "final loss %.4f", r.finalLoss()));
        }
        spec.commandLine().getOut().println("wrote " + out.resolve("final") + " and " + out.resolve("metrics.jsonl"));
        return 0;
    }

    /**
     * The tokenizer SFTKey trains with: the model's own when each tag is already one token, otherwise a copy
     * with the tags added ({@link AddedTokens#extend}) under OUT/tokenizer-sftkey/, which checkpoints and
     * final/ then carry. Rebuilt from the model directory on every run, so a resumed run gets the same ids.
     */
    private Path sftKeyTokenizer(Path modelDir) throws IOException {
        List<String> tags = List.of(Objectives.THINK_OPEN, Objectives.THINK_CLOSE, Objectives.ANSWER_OPEN, Objectives.ANSWER_CLOSE);
        List<String> missing = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            for (String tag : tags) if (tokenizer.encode(tag, false).length != 1) missing.add(tag);
        }
        if (missing.isEmpty()) return modelDir;
        Path extended = out.resolve(SFTKEY_TOKENIZER);
        AddedTokens.Result r = AddedTokens.extend(modelDir, tags, extended);
        addedTokenIds = r.newTokens().stream().mapToLong(t -> r.ids().get(t)).toArray();   // rows that hold only the mean
        spec.commandLine().getErr().println("sftkey: the tokenizer has no single token for " + String.join(" ", missing)
                + "; added " + r.ids() + " (vocabulary " + r.vocabSize() + ", new embedding rows = mean of the old) in " + extended);
        return extended;
    }

    /** Token ids added to the tokenizer by this run (sftkey tags), whose rows LoRA trains too. */
    private long[] addedTokenIds = new long[0];

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

    private List<TrainingStage> stages(Objectives.Kind kind, Tokenizer tokenizer) {
        if (data == null) throw new IllegalArgumentException("--data is required");
        PromptEncoder encoder = PromptEncoder.of(tokenizer, PromptEncoder.Style.parse(promptFormat), promptTemplate, systemPrompt);
        List<Example> examples = new ArrayList<>();
        try (DatasetReader r = DatasetReader.open(data, DatasetFormat.fromName(format))) {
            while (r.hasNext()) examples.add(r.next());
        }
        long eos = eos(tokenizer);
        List<WeightedExample> main = new ArrayList<>(), second = new ArrayList<>();
        switch (kind) {
            case CFT, RANDOM -> {
                if (masks == null) throw new IllegalArgumentException("--masks is required for --objective " + objective);
                Map<String, Example> byId = new HashMap<>();
                for (Example e : examples) byId.put(e.id(), e);
                Random rnd = new Random(seed);
                for (MaskRecord rec : MaskRecords.readKept(masks)) {
                    Example e = byId.get(rec.id());
                    if (e == null) throw new IllegalArgumentException(masks + ": record '" + rec.id() + "' is not in " + data);
                    long[] prompt = encoder.encode(e);
                    main.add(kind == Objectives.Kind.CFT ? Objectives.cft(rec, prompt) : Objectives.random(rec, prompt, rnd));
                }
            }
            default -> {
                for (Example e : examples) {
                    if (e.referenceSolution() == null) throw new IllegalArgumentException(e.sourceFile() + ":" + e.line() + ": no reference solution to train on");
                    long[] prompt = encoder.encode(e);
                    if (kind == Objectives.Kind.SFTKEY) {
                        WeightedExample[] two = Objectives.sftKey(tokenizer, prompt, e.referenceSolution(), eos);
                        main.add(two[0]);
                        second.add(two[1]);
                        continue;
                    }
                    long[] text = tokenizer.encode(e.referenceSolution(), false);
                    long[] response = Arrays.copyOf(text, text.length + 1);
                    response[text.length] = eos;
                    main.add(kind == Objectives.Kind.NUMERIC ? Objectives.numeric(prompt, response, tokenizer::decodeToken)
                            : Objectives.sft(prompt, response));
                }
            }
        }
        if (kind != Objectives.Kind.SFTKEY) return List.of(new TrainingStage(kind.name().toLowerCase(Locale.ROOT), main, steps));
        int first = stage1Steps >= 0 ? stage1Steps : steps / 2;
        if (first < 1 || first >= steps) throw new IllegalArgumentException("--stage1-steps must leave both stages >= 1 step, got " + first + " of " + steps);
        return List.of(new TrainingStage("sftkey-1", main, first), new TrainingStage("sftkey-2", second, steps - first));
    }

    private static long eos(Tokenizer tokenizer) {
        if (tokenizer.eosTokenIds().isEmpty()) throw new IllegalArgumentException(tokenizer.directory() + ": the tokenizer has no EOS token");
        return tokenizer.eosTokenIds().iterator().next();
    }
}
