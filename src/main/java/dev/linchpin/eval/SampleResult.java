package dev.linchpin.eval;

/**
 * One decoded response and its verdict.
 *
 * @param text        the response decoded without special tokens
 * @param correct     whether the verifier accepted its answer
 * @param tokens      generated tokens (EOS included when produced)
 * @param meanEntropy mean next-token entropy (nats, temperature 1) over its generated steps, as the engine reports it
 */
public record SampleResult(String text, boolean correct, int tokens, double meanEntropy) {}
