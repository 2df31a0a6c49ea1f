package dev.linchpin.train;

import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.DatasetReader;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.distributed.DataParallel;
import dev.linchpin.distributed.Rendezvous;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.model.CausalLM;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.tokenizer.AddedTokens;
import dev.linchpin.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A whole training job, as {@code linchpin train} and the demo run it: model directory + data (+ masks) →
 * {@code out/} with checkpoints, {@code metrics.jsonl} and {@code final/}, resumable.
 *
 * <p>Order of work: (1) for SFTKey, the tokenizer gets the tags as single tokens when it lacks them
 * ({@link #sftKeyTokenizer}, a copy under {@code out/}{@value #SFTKEY_TOKENIZER}); (2) the data (and the
 * masks' kept records) are read and turned into the objective's stages of weighted examples
 * ({@link #stages}); (3) the model is loaded in fp32 (the master weights, whatever the precision),
 * its embedding grown for added tags, and wrapped for full fine-tuning or LoRA; (4) {@link FineTuner}
 * trains, reporting each step to the progress listener.
 *
 * <p>Data-parallel ({@link Settings#dataParallel()}): every process runs this same job with its own
 * rank; they join one group ({@link DataParallel}) before anything is read, each reads the data and the
 * model itself, and {@link FineTuner} trains each rank's slice of every global step. Rank 0 writes
 * {@code out/}; the other ranks write nothing there (SFTKey's extended tokenizer, which every rank needs,
 * they build in a temporary directory, removed at the end).
 */
public final class TrainingRun {
    /** Under the output directory: the model's tokenizer with the SFTKey tags added, when it lacked them. */
    public static final String SFTKEY_TOKENIZER = "tokenizer-sftkey";

    private TrainingRun() {}

    /** Which responses the examples train on. */
    public enum Responses {
        /**
         * The data file's reference solutions (sft, sftkey, dft, numeric). CFT and the random ablation always
         * train the masks' kept responses: their weights belong to those tokens.
         */
        REFERENCE,
        /**
         * The masks file's kept records for every objective: the model's own verified greedy responses
         * (D_correct), so that objectives differ only by their per-token weights (the demo's comparison).
         * The data file then only supplies each record's question, to rebuild its prompt.
         */
        MINED
    }

    /**
     * LoRA settings; rank 0 is full fine-tuning.
     *
     * @param rank    adapter rank (0: no adapters, every weight trains)
     * @param alpha   scale numerator: the update is (alpha / rank)·B·A
     * @param targets module-name suffixes to adapt
     */
    public record Lora(int rank, double alpha, List<String> targets) {
        /** Full fine-tuning. */
        public static final Lora NONE = new Lora(0, 16, LoraModel.ALL_TARGETS);

        public Lora {
            if (rank < 0) throw new IllegalArgumentException("LoRA rank must be >= 0, got " + rank);
            targets = List.copyOf(targets);
        }
    }

    /**
     * Everything a run needs; build with {@link #builder}.
     *
     * @param model             Hugging Face model directory
     * @param objective         the objective
     * @param out               output directory (checkpoints, metrics.jsonl, final/)
     * @param data              JSONL data: questions and, with {@link Responses#REFERENCE}, reference solutions
     * @param format            data format (AUTO detects it)
     * @param promptStyle       how prompts are written (must be what mining used for masks)
     * @param promptTemplate    the base template or chat user template (null: default)
     * @param systemPrompt      chat system prompt (null: none)
     * @param masks             masks file of {@code linchpin mine}; needed by cft, random and {@link Responses#MINED}
     * @param responses         which responses the examples train on
     * @param config            hyper-parameters; its DFT switch is set from the objective
     * @param sftKeyStage1Steps SFTKey's stage-1 steps (the rest are stage 2); -1: half
     * @param lora              LoRA, or {@link Lora#NONE}
     * @param device            where the model trains
     * @param resume            continue from the latest checkpoint in {@code out}
     * @param dataParallel      this process's place in a data-parallel job, or null to train alone; the
     *                          global step is then {@code microBatch·gradAccum·worldSize} sequences
     */
    public record Settings(Path model, Objective objective, Path out, Path data, DatasetFormat format,
            PromptEncoder.Style promptStyle, String promptTemplate, String systemPrompt, Path masks, Responses responses,
            FineTuneConfig config, int sftKeyStage1Steps, Lora lora, Device device, boolean resume, Rendezvous dataParallel) {
        public Settings {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(objective, "objective");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(promptStyle, "promptStyle");
            Objects.requireNonNull(responses, "responses");
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(lora, "lora");
            Objects.requireNonNull(device, "device");
            if ((objective.needsMasks() || responses == Responses.MINED) && masks == null) {
                throw new IllegalArgumentException("a masks file is needed for " + objective.cliName()
                        + (responses == Responses.MINED ? " on mined responses" : ""));
            }
            if (config.dft() != objective.detachedProbabilityWeights()) {
                config = config.toBuilder().dft(objective.detachedProbabilityWeights()).build();
            }
        }

        /** Settings for {@code objective} from {@code model} into {@code out}; set the data and the rest by name. */
        public static Builder builder(Path model, Objective objective, Path out) {
            return new Builder(model, objective, out);
        }

        /** SFTKey's stage-1 steps as configured ({@code -1}: half of all steps). */
        int stage1Steps() {
            return sftKeyStage1Steps >= 0 ? sftKeyStage1Steps : config.steps() / 2;
        }
    }

    /** Named setters over {@link Settings}; the defaults are {@code linchpin train}'s. */
    public static final class Builder {
        private final Path model, out;
        private final Objective objective;
        private Path data, masks;
        private DatasetFormat format = DatasetFormat.AUTO;
        private PromptEncoder.Style promptStyle = PromptEncoder.Style.AUTO;
        private String promptTemplate, systemPrompt;
        private Responses responses = Responses.REFERENCE;
        private FineTuneConfig config;
        private int sftKeyStage1Steps = -1;
        private Lora lora = Lora.NONE;
        private Device device;
        private boolean resume;
        private Rendezvous dataParallel;

        private Builder(Path model, Objective objective, Path out) {
            this.model = model;
            this.objective = objective;
            this.out = out;
        }

        /** The data file and its format. */
        public Builder data(Path file, DatasetFormat fmt) { data = file; format = fmt; return this; }
        /** How prompts are written ({@link PromptEncoder#of}). */
        public Builder prompts(PromptEncoder.Style style, String template, String system) {
            promptStyle = style;
            promptTemplate = template;
            systemPrompt = system;
            return this;
        }
        /** The masks file of {@code linchpin mine}. */
        public Builder masks(Path file) { masks = file; return this; }
        /** Which responses the examples train on. */
        public Builder responses(Responses r) { responses = r; return this; }
        /** The hyper-parameters. */
        public Builder config(FineTuneConfig c) { config = c; return this; }
        /** SFTKey's stage-1 steps; -1: half. */
        public Builder sftKeyStage1Steps(int n) { sftKeyStage1Steps = n; return this; }
        /** LoRA instead of full fine-tuning. */
        public Builder lora(Lora l) { lora = l; return this; }
        /** The training device (default: the CPU). */
        public Builder device(Device d) { device = d; return this; }
        /** Continue from the latest checkpoint in the output directory. */
        public Builder resume(boolean on) { resume = on; return this; }
        /** Train as one rank of a data-parallel job; null: alone. */
        public Builder dataParallel(Rendezvous r) { dataParallel = r; return this; }

        public Settings build() {
            if (config == null) throw new IllegalArgumentException("a training configuration is required");
            return new Settings(model, objective, out, data, format, promptStyle, promptTemplate, systemPrompt, masks, responses,
                    config, sftKeyStage1Steps, lora, device != null ? device : new Device("cpu"), resume, dataParallel);
        }
    }

    /** The tokenizer an objective trains with, and the ids this run added to it (whose rows hold only the mean). */
    record TokenizerChoice(Path dir, long[] addedIds) {}

    /** Runs the job; progress (a bar over the steps, notes such as added tags) goes to {@code progress}. */
    public static TrainResult run(Settings s, ProgressListener progress) throws IOException {
        if (!Files.isDirectory(s.model())) throw new IOException(s.model() + ": model directory not found");
        if (s.dataParallel() == null) return run(s, progress, null);
        try (DataParallel dp = DataParallel.join(s.dataParallel(), s.device())) {
            if (dp.rank() == 0) {
                progress.message("data-parallel: " + dp.worldSize() + " processes (" + dp.backendName() + "), a global step of "
                        + s.config().stepExamples() * dp.worldSize() + " sequences");
            }
            return run(s, progress, dp);
        }
    }

    private static TrainResult run(Settings s, ProgressListener progress, DataParallel dp) throws IOException {
        FineTuneConfig config = s.config();
        Path scratch = null;
        try {
            TokenizerChoice tok;
            if (s.objective() != Objective.SFTKEY) {
                tok = new TokenizerChoice(s.model(), new long[0]);
            } else if (dp == null || dp.rank() == 0) {
                tok = sftKeyTokenizer(s.model(), s.out(), progress);
            } else {
                scratch = Files.createTempDirectory("linchpin-rank" + dp.rank() + "-");   // the same ids as rank 0's copy
                tok = sftKeyTokenizer(s.model(), scratch, ProgressListener.silent());
            }
            return train(s, config, tok, progress, dp);
        } finally {
            if (scratch != null) Checkpoints.deleteTree(scratch);
        }
    }

    private static TrainResult train(Settings s, FineTuneConfig config, TokenizerChoice tok, ProgressListener progress, DataParallel dp)
            throws IOException {
        try (Tokenizer tokenizer = Tokenizer.load(tok.dir())) {
            List<TrainingStage> stages = stages(s, tokenizer);
            CausalLM base = CausalLM.load(s.model(), s.device(), ScalarType.Float);   // fp32 master weights whatever the precision
            // New tag ids past the embedding get mean-initialised rows; a model whose embedding is already
            // larger than its tokenizer (Qwen pads to a multiple of 128) keeps its size, the tags take spare rows.
            if (tokenizer.vocabSize() > base.config().vocabSize()) base = base.resizeTokenEmbeddings(Math.toIntExact(tokenizer.vocabSize()));
            // LoRA freezes the embedding, so the added tags' rows (still the mean row) are trained as well.
            Trainable trainable = s.lora().rank() > 0
                    ? new LoraModel(base, s.lora().rank(), s.lora().alpha(), s.lora().targets(), config.seed(), tok.addedIds())
                    : new FullFineTune(base);
            long pad = tokenizer.padTokenId() != null ? tokenizer.padTokenId() : eos(tokenizer);
            ProgressListener.Task bar = progress.start("train " + s.objective().cliName(), config.steps());
            TrainResult r = FineTuner.train(trainable, stages, pad, config,
                    TrainingOutput.to(s.out()).withTokenizer(tok.dir()).resuming(s.resume()),
                    m -> bar.update(m.stepsDone(), String.format(Locale.ROOT, "loss %.4f lr %.2e |g| %.3f", m.loss(), m.lr(), m.gradNorm())), dp);
            bar.finish(r.losses().length == 0 ? "nothing left to train" : String.format(Locale.ROOT, "final loss %.4f", r.finalLoss())
                    + (s.responses() == Responses.MINED ? ", " + stages.get(0).data().size() + " examples (D_correct)" : ""));
            return r;
        }
    }

    /**
     * The tokenizer SFTKey trains with: the model's own when each tag is already one token, otherwise a copy
     * with the tags added ({@link AddedTokens#extend}) under {@code out/}{@value #SFTKEY_TOKENIZER}, which
     * checkpoints and final/ then carry. Rebuilt from the model directory on every run, so a resumed run gets
     * the same ids.
     */
    static TokenizerChoice sftKeyTokenizer(Path modelDir, Path out, ProgressListener progress) throws IOException {
        List<String> missing = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            for (String tag : Objectives.SFTKEY_TAGS) if (tokenizer.encode(tag, false).length != 1) missing.add(tag);
        }
        if (missing.isEmpty()) return new TokenizerChoice(modelDir, new long[0]);
        Path extended = out.resolve(SFTKEY_TOKENIZER);
        AddedTokens.Result r = AddedTokens.extend(modelDir, Objectives.SFTKEY_TAGS, extended);
        progress.message("sftkey: the tokenizer has no single token for " + String.join(" ", missing)
                + "; added " + r.ids() + " (vocabulary " + r.vocabSize() + ", new embedding rows = mean of the old) in " + extended);
        return new TokenizerChoice(extended, r.newTokens().stream().mapToLong(t -> r.ids().get(t)).toArray());
    }

    /**
     * The objective's stages: one of all steps, or SFTKey's two (full SFT, then the Answer span). Examples
     * follow the data file, or the masks file's kept records (in file order) when the weights or the
     * responses come from it.
     */
    static List<TrainingStage> stages(Settings s, Tokenizer tokenizer) throws IOException {
        Objective objective = s.objective();
        PromptEncoder encoder = PromptEncoder.of(tokenizer, s.promptStyle(), s.promptTemplate(), s.systemPrompt());
        List<Example> examples = new ArrayList<>();
        try (DatasetReader r = DatasetReader.open(s.data(), s.format())) {
            while (r.hasNext()) examples.add(r.next());
        }
        long eos = eos(tokenizer);
        Random random = new Random(s.config().seed());
        List<WeightedExample> main = new ArrayList<>(), second = new ArrayList<>();
        if (objective.needsMasks() || s.responses() == Responses.MINED) {
            List<MaskRecord> kept = MaskRecords.readKept(s.masks());
            if (kept.isEmpty() && s.responses() == Responses.MINED) {
                throw new IllegalArgumentException(s.masks() + ": the model answered none of the mined questions correctly, so D_correct "
                        + "is empty and there is nothing to train on; mine more questions or use a stronger base model");
            }
            Map<String, Example> byId = new HashMap<>();
            for (Example e : examples) byId.put(e.id(), e);
            for (MaskRecord rec : kept) {
                Example e = byId.get(rec.id());
                if (e == null) throw new IllegalArgumentException(s.masks() + ": record '" + rec.id() + "' is not in " + s.data());
                long[] prompt = encoder.encode(e);
                switch (objective) {
                    case CFT -> main.add(Objectives.cft(rec, prompt));
                    case RANDOM -> main.add(Objectives.random(rec, prompt, random));
                    case SFT, DFT -> main.add(Objectives.sft(checkedPrompt(rec, prompt), rec.responseIds()));
                    case NUMERIC -> main.add(Objectives.numeric(checkedPrompt(rec, prompt), rec.responseIds(), tokenizer::decodeToken));
                    case SFTKEY -> {
                        // a verified response may end without "#### N" (the verifier took its last number)
                        WeightedExample[] two = Objectives.sftKey(tokenizer, prompt, rec.responseText(), rec.answer(), eos);
                        main.add(two[0]);
                        second.add(two[1]);
                    }
                }
            }
        } else {
            for (Example e : examples) {
                if (e.referenceSolution() == null) throw new IllegalArgumentException(e.sourceFile() + ":" + e.line() + ": no reference solution to train on");
                long[] prompt = encoder.encode(e);
                if (objective == Objective.SFTKEY) {
                    WeightedExample[] two = Objectives.sftKey(tokenizer, prompt, e.referenceSolution(), eos);
                    main.add(two[0]);
                    second.add(two[1]);
                    continue;
                }
                long[] text = tokenizer.encode(e.referenceSolution(), false);
                long[] response = Arrays.copyOf(text, text.length + 1);
                response[text.length] = eos;
                main.add(objective == Objective.NUMERIC ? Objectives.numeric(prompt, response, tokenizer::decodeToken)
                        : Objectives.sft(prompt, response));
            }
        }
        int steps = s.config().steps();
        if (!objective.twoStages()) return List.of(new TrainingStage(objective.cliName(), main, steps));
        int first = s.stage1Steps();
        if (first < 1 || first >= steps) {
            throw new IllegalArgumentException("SFTKey's stage 1 must leave both stages >= 1 step, got " + first + " of " + steps);
        }
        return List.of(new TrainingStage("sftkey-1", main, first), new TrainingStage("sftkey-2", second, steps - first));
    }

    /** The first EOS id of the tokenizer (appended to reference solutions, the pad id when there is none). */
    static long eos(Tokenizer tokenizer) {
        if (tokenizer.eosTokenIds().isEmpty()) throw new IllegalArgumentException(tokenizer.directory() + ": the tokenizer has no EOS token");
        return tokenizer.eosTokenIds().iterator().next();
    }

    /** A record's response follows its prompt: the prompt must be the one mining encoded. */
    private static long[] checkedPrompt(MaskRecord r, long[] prompt) {
        if (prompt.length != r.promptTokens()) {
            throw new IllegalArgumentException("record '" + r.id() + "': the prompt encodes to " + prompt.length
                    + " tokens, the masks file says " + r.promptTokens());
        }
        return prompt;
    }
}
