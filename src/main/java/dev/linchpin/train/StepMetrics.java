package dev.linchpin.train;

/**
 * What one optimizer step did: the line {@link FineTuner} appends to {@code metrics.jsonl} and hands to
 * its {@link TrainingListener}.
 *
 * @param stepsDone      steps finished so far, this one included (1 after the first step)
 * @param totalSteps     steps of the whole run (all stages)
 * @param stage          the {@link TrainingStage}'s name
 * @param loss           the step loss (the sum of its micro-batch losses, normalised over the step)
 * @param lr             the learning rate the step used
 * @param gradNorm       the global gradient L2 norm before clipping
 * @param trainedTokens  response tokens with a nonzero weight in the step (over all ranks of a data-parallel run)
 * @param responseTokens response tokens in the step (EOS included; over all ranks)
 * @param seconds        wall time of the step
 * @param allReduceSeconds wall time of the step spent in data-parallel collectives (0 on one process)
 */
public record StepMetrics(int stepsDone, int totalSteps, String stage, double loss, double lr, double gradNorm,
        long trainedTokens, long responseTokens, double seconds, double allReduceSeconds) {

    /** The fields of a single-process step (no collectives). */
    public StepMetrics(int stepsDone, int totalSteps, String stage, double loss, double lr, double gradNorm, long trainedTokens,
            long responseTokens, double seconds) {
        this(stepsDone, totalSteps, stage, loss, lr, gradNorm, trainedTokens, responseTokens, seconds, 0);
    }

    /** Trained tokens per second of the step. */
    public double tokensPerSecond() {
        return trainedTokens / Math.max(1e-9, seconds);
    }

    /** The fraction of the step's response tokens that carried a weight. */
    public double trainedTokenFraction() {
        return (double) trainedTokens / responseTokens;
    }
}
