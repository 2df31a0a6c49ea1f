package dev.linchpin.defaults;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.data.SyntheticJsonl;
import dev.linchpin.data.SyntheticProblem;
import dev.linchpin.data.SyntheticTask;
import dev.linchpin.distributed.ThreadRanks;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.progress.ProgressListener;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import dev.linchpin.train.FineTuner;
import dev.linchpin.train.FullFineTune;
import dev.linchpin.train.GreedyAccuracy;
import dev.linchpin.train.Objectives;
import dev.linchpin.train.TrainResult;
import dev.linchpin.train.TrainingListener;
import dev.linchpin.train.TrainingOutput;
import dev.linchpin.train.TrainingStage;
import dev.linchpin.train.WeightedExample;
import dev.linchpin.verify.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a {@link DefaultConfig} into a trained model directory: generate the synthetic splits, build
 * the tokenizer for their vocabulary, tokenize (prompt = the tokenizer's chat template applied to the
 * question as one user message with the generation prompt, i.e. {@code question + "\n"}; response =
 * the GSM8K-style solution + EOS), train from a seeded random initialisation with {@link FineTuner} on
 * {@link DefaultConfig#ranks()} data-parallel threads (every
 * response token weighted 1, nothing written until the model is saved), evaluate greedy accuracy
 * on test and OOD with the same prompt format, and write everything into {@code dir}
 * ({@link EmbeddedDefault} makes that directory atomic and cached).
 */
final class DefaultRecipe {
    static final String TRAINING_JSON = "training.json";
    static final String DATA_DIR = "data";
    /** Prompts of equal length decoded together at evaluation. */
    static final int EVAL_BATCH = 32;
    /**
     * How long a rank waits for the others in one collective. The ranks are threads doing equal work, so a
     * wait this long means one of them is stuck; a rank that fails leaves the group and stops the others at once.
     */
    private static final Duration RANK_TIMEOUT = Duration.ofMinutes(5);

    private DefaultRecipe() {}

    /** Builds into {@code dir} (empty or absent), writing {@code training.json} last; returns its content. */
    static ObjectNode build(DefaultConfig config, Path dir, ProgressListener progress) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(dir);
        SyntheticTask task = new SyntheticTask(config.dataSeed(), config.difficulty(), config.oodDifficulty());
        SyntheticTask.Splits splits = task.generate(config.trainSize(), config.testSize(), config.oodSize());
        Path data = dir.resolve(DATA_DIR);
        for (SyntheticTask.Split s : SyntheticTask.Split.values()) {
            SyntheticJsonl.writeGsm8k(splits.get(s), data.resolve(s.fileStem() + ".jsonl"));
        }

        List<String> texts = new ArrayList<>(SyntheticTask.vocabulary());
        for (SyntheticTask.Split s : SyntheticTask.Split.values()) {
            for (SyntheticProblem p : splits.get(s)) {
                texts.add(p.question());
                texts.add(p.solution());
            }
        }
        new TokenizerBuilder().addWordsFrom(texts).modelMaxLength(config.maxPositions()).write(dir);

        ObjectNode report;
        try (Tokenizer tokenizer = Tokenizer.load(dir)) {
            long eos = tokenizer.eosTokenIds().iterator().next();
            long pad = tokenizer.padTokenId();
            List<WeightedExample> train = new ArrayList<>();
            int longest = 0;
            for (SyntheticProblem p : splits.train()) {
                long[] response = append(tokenizer.encode(p.solution(), false), eos);
                WeightedExample e = Objectives.sft(promptIds(tokenizer, p.question()), response);   // every response token, weight 1
                longest = Math.max(longest, e.length());
                train.add(e);
            }
            if (longest > config.maxPositions()) {
                throw new IllegalStateException("a training example has " + longest + " tokens, more than maxPositions "
                        + config.maxPositions());
            }
            ModelConfig modelConfig = ModelConfig.builder(ModelFamily.LLAMA)
                    .vocabSize((int) tokenizer.vocabSize()).hiddenSize(config.hiddenSize())
                    .intermediateSize(config.intermediateSize()).numLayers(config.layers())
                    .numHeads(config.heads()).numKvHeads(config.heads())
                    .maxPositionEmbeddings(config.maxPositions()).tieWordEmbeddings(true)
                    .padTokenId(pad).eosTokenIds(List.of(eos)).build();
            CausalLM model = CausalLM.randomInit(modelConfig, config.modelSeed());

            progress.message(String.format(Locale.ROOT, "embedded default %s: %s, %d train examples (longest %d tokens)",
                    config.hash(), modelConfig, train.size(), longest));
            ProgressListener.Task bar = progress.start(config.ranks() == 1 ? "training" : "training (" + config.ranks() + " ranks)",
                    config.training().steps());
            TrainResult trained = train(config, modelConfig, model, List.of(new TrainingStage("pretrain", train, config.training().steps())),
                    pad, m -> bar.update(m.stepsDone(), String.format(Locale.ROOT, "loss %.4f lr %.2e", m.loss(), m.lr())));
            bar.finish(String.format(Locale.ROOT, "final loss %.4f, %d response tokens", trained.finalLoss(), trained.trainedTokens()));

            Verifier verifier = new Verifier();
            GreedyAccuracy.Result test = evaluate("eval test", model, tokenizer, splits.test(), config, verifier, progress);
            GreedyAccuracy.Result ood = evaluate("eval ood", model, tokenizer, splits.ood(), config, verifier, progress);

            model.save(dir, dir);  // tokenizer files are already there
            report = report(config, modelConfig, trained, test, ood, (System.nanoTime() - start) / 1e9);
        }
        return report;
    }

    /**
     * Trains {@code model} in place: in this thread for one rank, else as rank 0 of {@link DefaultConfig#ranks()}
     * threads ({@link ThreadRanks}), each other rank on its own replica made from the same seed (so every rank
     * starts from the same weights, which {@link FineTuner} checks) and discarded after.
     */
    private static TrainResult train(DefaultConfig config, ModelConfig modelConfig, CausalLM model, List<TrainingStage> stages, long pad,
            TrainingListener listener) throws IOException {
        if (config.ranks() == 1) return FineTuner.train(new FullFineTune(model), stages, pad, config.training(), TrainingOutput.inMemory(), listener);
        return ThreadRanks.run(config.ranks(), RANK_TIMEOUT, "embedded-default", dp -> {
            CausalLM replica = dp.rank() == 0 ? model : CausalLM.randomInit(modelConfig, config.modelSeed());
            return FineTuner.train(new FullFineTune(replica), stages, pad, config.training(), TrainingOutput.inMemory(),
                    dp.rank() == 0 ? listener : null, dp);
        });
    }

    /** The prompt exactly as trained and evaluated: the chat template with one user turn and the generation prompt. */
    static long[] promptIds(Tokenizer tokenizer, String question) {
        String prompt = tokenizer.applyChatTemplate(List.of(ChatMessage.user(question)), true, null);
        return tokenizer.encode(prompt, false);
    }

    private static GreedyAccuracy.Result evaluate(String label, CausalLM model, Tokenizer tokenizer, List<SyntheticProblem> problems,
            DefaultConfig config, Verifier verifier, ProgressListener progress) {
        if (problems.isEmpty()) return new GreedyAccuracy.Result(0, List.of());
        List<GreedyAccuracy.Item> items = new ArrayList<>();
        for (SyntheticProblem p : problems) items.add(new GreedyAccuracy.Item(promptIds(tokenizer, p.question()), Integer.toString(p.answer())));
        ProgressListener.Task bar = progress.start(label, items.size());
        GreedyAccuracy.Result r = GreedyAccuracy.evaluate(model, tokenizer, items, config.maxNewTokens(), EVAL_BATCH, verifier,
                done -> bar.update(done, ""));
        bar.finish(String.format(Locale.ROOT, "greedy accuracy %.1f%% (%d/%d)", 100 * r.accuracy(), r.correct(), r.total()));
        return r;
    }

    private static long[] append(long[] ids, long last) {
        long[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = last;
        return out;
    }

    private static ObjectNode report(DefaultConfig config, ModelConfig modelConfig, TrainResult trained,
            GreedyAccuracy.Result test, GreedyAccuracy.Result ood, double wallSeconds) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("config_hash", config.hash());
        root.put("recipe_version", DefaultConfig.RECIPE_VERSION);
        root.put("config", config.canonical());
        root.put("model", modelConfig.toString());
        root.put("parameters", parameterCount(modelConfig));
        root.put("final_loss", trained.finalLoss());
        int n = trained.losses().length, tail = Math.max(1, n / 20);
        root.put("final_loss_mean_last_5pct", trained.meanLoss(n - tail, n));
        ArrayNode curve = root.putArray("loss_curve_every_" + Math.max(1, n / 50) + "_steps");
        for (int i = 0; i < n; i += Math.max(1, n / 50)) curve.add(trained.losses()[i]);
        root.put("response_tokens_trained", trained.trainedTokens());
        root.put("train_seconds", trained.wallSeconds());
        root.put("test_accuracy", test.accuracy());
        root.put("test_correct", test.correct());
        root.put("test_total", test.total());
        root.put("ood_accuracy", ood.accuracy());
        root.put("ood_correct", ood.correct());
        root.put("ood_total", ood.total());
        root.put("wall_seconds", wallSeconds);
        root.put("machine", System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores, Java " + System.getProperty("java.version"));
        ArrayNode samples = root.putArray("test_samples");
        for (int i = 0; i < Math.min(3, test.total()); i++) samples.add(test.responses().get(i));
        return root;
    }

    static long parameterCount(ModelConfig c) {
        long total = 0;
        for (Map.Entry<String, long[]> e : CausalLM.parameterShapes(c).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) n *= d;
            total += n;
        }
        return total;
    }

    static ObjectMapper writer() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
