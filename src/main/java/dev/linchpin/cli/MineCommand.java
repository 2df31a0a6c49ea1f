package dev.linchpin.cli;

import dev.linchpin.mine.MiningOptions;
import dev.linchpin.mine.MiningRun;
import dev.linchpin.mine.MiningSummary;
import dev.linchpin.mine.Shard;
import dev.linchpin.options.EngineOptions;
import dev.linchpin.options.MiningFlags;
import dev.linchpin.options.PromptOptions;
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
    @Mixin
    MiningFlags mining;
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
        MiningOptions options = mining.options();
        return new MiningRun.Settings(model, data, out, prompts.format(), prompts.style(), prompts.template(),
                prompts.systemPrompt(), Shard.parse(shard), options, kvBudgetBytes, engine.threads(), engine.device());
    }

    private static void require(Object value, String option) {
        if (value == null) throw new IllegalArgumentException(option + " is required (on the command line or in --config)");
    }
}
