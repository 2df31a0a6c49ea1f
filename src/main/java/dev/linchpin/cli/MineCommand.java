package dev.linchpin.cli;

import dev.linchpin.mine.MiningOptions;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin mine}: critical-token masks for a data set (CFT's identification; see
 * {@link dev.linchpin.mine.CriticalTokenMiner}). Resumable: rerun the same command after a crash.
 */
@Command(name = "mine", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Mine critical-token masks: greedy response, verify, then branch every response position "
                + "to its 2nd..(k+1)th most probable tokens and mark the token critical iff every branch fails.",
                "Rerun the same command to resume after an interruption; --shard i/n splits the data over hosts."})
public final class MineCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption config;
    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model directory (config.json, safetensors, tokenizer).")
    Path model;
    @Option(names = "--data", paramLabel = "FILE", description = "JSONL data set (gsm8k, math, prompt-completion or messages records).")
    Path data;
    @Option(names = "--out", paramLabel = "FILE", description = "Masks file (JSONL, appended); summary in FILE.summary.json.")
    Path out;
    @Mixin
    PromptOptions prompts;
    @Option(names = "--shard", defaultValue = "0/1", paramLabel = "i/n", description = "Mine examples whose data position is i mod n (default: ${DEFAULT-VALUE}).")
    String shard;
    @Option(names = {"--k", "-k"}, defaultValue = "2", description = "Alternatives per position: ranks 2..k+1 (default: ${DEFAULT-VALUE}).")
    int k;
    @Option(names = "--rollouts", defaultValue = "1", description = "Continuations per alternative; > 1 needs --temperature > 0 (default: ${DEFAULT-VALUE}).")
    int rollouts;
    @Option(names = "--temperature", defaultValue = "0", description = "0: greedy continuations; > 0: sampled (default: ${DEFAULT-VALUE}).")
    double temperature;
    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus mass of sampled continuations (default: ${DEFAULT-VALUE}).")
    double topP;
    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--failure-threshold", defaultValue = "1", description = "An alternative fails iff at least this fraction of its continuations is wrong (default: ${DEFAULT-VALUE}).")
    double failureThreshold;
    @Option(names = "--span-start", defaultValue = "0", description = "First response position examined (default: ${DEFAULT-VALUE}).")
    int spanStart;
    @Option(names = "--span-end", defaultValue = "-1", description = "One past the last response position examined; -1: to the end, EOS included (default: ${DEFAULT-VALUE}).")
    int spanEnd;
    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Greedy response budget (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;
    @Option(names = "--branch-margin", defaultValue = "64", description = "A branched response has at most min(max-new-tokens, response length + margin) tokens (default: ${DEFAULT-VALUE}).")
    int branchMargin;
    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch; records are flushed per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-branches", defaultValue = "64", description = "Branches decoding at once (default: ${DEFAULT-VALUE}).")
    int maxBranches;
    @Mixin
    EngineOptions engine;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        config.checkKeys(spec);
        MiningRun.Settings settings = settings();
        MiningSummary summary = MiningRun.run(settings, progress.on(spec.commandLine().getErr()));
        spec.commandLine().getOut().println("wrote " + out + " (" + summary.examples() + " records) and "
                + MiningSummary.pathFor(out));
        return 0;
    }

    /** The run these options describe (public for tests: same parsing, no mining). */
    MiningRun.Settings settings() {
        require(model, "--model");
        require(data, "--data");
        require(out, "--out");
        long kvBudgetBytes = engine.kvBudgetBytes();
        progress.terminal();   // a bad --progress fails before any work
        MiningOptions options = new MiningOptions(k, rollouts, temperature, topP, seed, failureThreshold, spanStart, spanEnd,
                maxNewTokens, branchMargin, batchSize, maxBranches);
        return new MiningRun.Settings(model, data, out, prompts.format(), prompts.style(), prompts.promptTemplate,
                prompts.systemPrompt, Shard.parse(shard), options, kvBudgetBytes, engine.threads, engine.device());
    }

    private static void require(Object value, String option) {
        if (value == null) throw new IllegalArgumentException(option + " is required (on the command line or in --config)");
    }
}
