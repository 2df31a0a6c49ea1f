package dev.linchpin.cli;

import dev.linchpin.eval.EvalOptions;
import dev.linchpin.eval.EvalRun;
import dev.linchpin.options.EngineOptions;
import dev.linchpin.options.PromptOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin eval}: greedy accuracy, pass@k and sampled-output entropy of a model on one or more
 * data sets (see {@link dev.linchpin.eval.EvalRun}); a table on stdout, the full report with per-question
 * detail in {@code --out}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a model: greedy accuracy, pass@k (unbiased estimator from n samples) and the mean "
                + "token entropy of the samples, per data set (named by file stem) and overall (micro-average over questions)."})
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption config;
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (config.json, safetensors, tokenizer).")
    Path model;
    @Option(names = "--data", paramLabel = "FILE", split = ",", description = "JSONL data sets, comma-separated or repeated; each named by its file stem.")
    List<Path> data;
    @Option(names = "--out", paramLabel = "FILE", description = "JSON report (written atomically), with every response and verdict.")
    Path out;
    @Mixin
    PromptOptions prompts;
    @Option(names = {"--samples", "-n"}, defaultValue = "16", description = "n: temperature samples per question (default: ${DEFAULT-VALUE}).")
    int samples;
    @Option(names = "--k", split = ",", paramLabel = "K", description = "The k of pass@k, each <= n (default: 1,2,4,...,n).")
    List<Integer> ks;
    @Option(names = "--temperature", defaultValue = "0.6", description = "Sampling temperature, > 0 (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-p", defaultValue = "0.95", description = "Nucleus mass of the samples (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Response budget (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--max-examples", defaultValue = "0", description = "Evaluate the first N questions of each data set; 0: all (default: ${DEFAULT-VALUE}).")
    int maxExamples;
    @Option(names = "--batch-size", defaultValue = "8", description = "Questions prefilled and decoded together (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-branches", defaultValue = "64", description = "Sequences decoding at once (default: ${DEFAULT-VALUE}).")
    int maxBranches;
    @Mixin
    EngineOptions engine;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        config.checkKeys(spec);
        EvalRun.run(settings(), spec.commandLine().getOut(), progress.on(spec.commandLine().getErr()));
        if (out != null) spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }

    /** The run these options describe (same parsing, no evaluation). */
    EvalRun.Settings settings() {
        if (model == null) throw new IllegalArgumentException("--model is required (on the command line or in --config)");
        if (data == null || data.isEmpty()) throw new IllegalArgumentException("--data is required (on the command line or in --config)");
        long kvBudgetBytes = engine.kvBudgetBytes();
        if (samples < 1) throw new IllegalArgumentException("--samples must be >= 1, got " + samples);
        progress.terminal();   // a bad --progress fails before any work
        List<Integer> k = ks == null || ks.isEmpty() ? EvalOptions.defaultKs(samples) : new ArrayList<>(ks);
        EvalOptions options = new EvalOptions(samples, k, temperature, topP, seed, maxNewTokens, maxExamples, batchSize, maxBranches);
        return new EvalRun.Settings(model, data, out, prompts.format(), prompts.style(), prompts.template(), prompts.systemPrompt(),
                options, kvBudgetBytes, engine.threads(), engine.device());
    }
}
