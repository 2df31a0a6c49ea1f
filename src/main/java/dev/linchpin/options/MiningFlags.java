package dev.linchpin.options;

import dev.linchpin.mine.MiningOptions;
import picocli.CommandLine.Option;

/** Mining's settings as flags, shared by {@code linchpin mine} and the Spark job (a picocli mixin). */
public final class MiningFlags {
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

    /** The mining settings these flags describe (validated by {@link MiningOptions}). */
    public MiningOptions options() {
        return new MiningOptions(k, rollouts, temperature, topP, seed, failureThreshold, spanStart, spanEnd, maxNewTokens, branchMargin,
                batchSize, maxBranches);
    }
}
