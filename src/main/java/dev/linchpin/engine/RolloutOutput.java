package dev.linchpin.engine;

/**
 * The result of one branch.
 *
 * @param index       the branch's index in the request list
 * @param tokens      generated tokens (not the forced one), ending with the EOS id or stop sequence that ended it
 * @param sumLogProb  Σ log p(token) under the model (temperature 1)
 * @param meanEntropy mean entropy (nats) of the model's next-token distributions over the generated steps
 */
public record RolloutOutput(int index, long[] tokens, double sumLogProb, double meanEntropy) {}
