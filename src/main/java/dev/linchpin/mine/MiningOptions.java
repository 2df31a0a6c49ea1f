package dev.linchpin.mine;

/**
 * How critical tokens are mined. The defaults reproduce CFT (Ruan et al., arXiv 2510.10974): k = 2
 * alternatives, one greedy continuation each, a token is critical iff every continuation is wrong.
 *
 * <p>Budgets. The original response is the model's greedy decoding of the prompt, at most
 * {@code maxNewTokens} tokens (stopping after an EOS id). A branched response (y_&lt;t, alternative,
 * continuation) may have at most {@code min(maxNewTokens, L + branchMargin)} tokens, where L is the
 * original response's length (EOS included): the same budget as the original, tightened so that a
 * branch that never stops costs at most {@code branchMargin} tokens more than the solution it replaces.
 *
 * @param k                    alternatives per position: ranks 2..k+1 of the model's distribution at t
 * @param rollouts             continuations per alternative (1 for greedy)
 * @param temperature          <= 0: greedy continuations; > 0: sampled at this temperature
 * @param topP                 nucleus mass for sampled continuations, in (0, 1]
 * @param seed                 sampling seed (a continuation's sample depends only on the seed, the
 *                             example, t, the alternative and its rollout number, not on batching)
 * @param failureThreshold     an alternative fails iff at least this fraction of its continuations is
 *                             verified wrong, in (0, 1]; 1 = all of them (the paper)
 * @param spanStart            first response position examined (e.g. to skip prompt-format tokens the
 *                             model repeats at the start of every response)
 * @param spanEnd              one past the last response position examined; -1 = the response's end
 *                             (the EOS position included)
 * @param maxNewTokens         greedy budget of the original response
 * @param branchMargin         see above, >= 1
 * @param batchSize            examples per batch: generation, prefill and branch rollouts of a batch
 *                             run together, and records are flushed per batch
 * @param maxBranches          branch slots decoding at once (continuous batching)
 */
public record MiningOptions(int k, int rollouts, double temperature, double topP, long seed, double failureThreshold,
        int spanStart, int spanEnd, int maxNewTokens, int branchMargin, int batchSize, int maxBranches)
        implements java.io.Serializable {

    public MiningOptions {
        require(k >= 1, "k must be >= 1, got " + k);
        require(rollouts >= 1, "rollouts must be >= 1, got " + rollouts);
        require(!Double.isNaN(temperature), "temperature is NaN");
        require(temperature > 0 || rollouts == 1,
                "rollouts = " + rollouts + " needs temperature > 0 (greedy continuations would all be equal)");
        require(topP > 0 && topP <= 1, "top-p must be in (0, 1], got " + topP);
        require(failureThreshold > 0 && failureThreshold <= 1, "failure threshold must be in (0, 1], got " + failureThreshold);
        require(spanStart >= 0, "span start must be >= 0, got " + spanStart);
        require(spanEnd == -1 || spanEnd > spanStart, "span end must be -1 or > span start, got " + spanEnd);
        require(maxNewTokens >= 1, "max new tokens must be >= 1, got " + maxNewTokens);
        require(branchMargin >= 1, "branch margin must be >= 1, got " + branchMargin);
        require(batchSize >= 1, "batch size must be >= 1, got " + batchSize);
        require(maxBranches >= 1, "max branches must be >= 1, got " + maxBranches);
    }

    /** The paper's setting: k = 2, greedy, all positions, 256 new tokens, margin 64, 8 examples and 64 branches at once. */
    public static MiningOptions defaults() {
        return new MiningOptions(2, 1, 0.0, 1.0, 0L, 1.0, 0, -1, 256, 64, 8, 64);
    }

    /** Greedy continuations? */
    public boolean greedy() {
        return temperature <= 0;
    }

    /** Most tokens of a branched response whose original response has {@code responseLength} tokens. */
    public int branchedResponseBudget(int responseLength) {
        return (int) Math.min(maxNewTokens, (long) responseLength + branchMargin);
    }

    /** The examined positions of a response of {@code length} tokens: [from, to). */
    public int spanFrom(int length) {
        return Math.min(spanStart, length);
    }

    /** One past the last examined position of a response of {@code length} tokens. */
    public int spanTo(int length) {
        return spanEnd < 0 ? length : Math.min(spanEnd, length);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
