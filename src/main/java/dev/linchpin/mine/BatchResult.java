package dev.linchpin.mine;

import java.util.List;

/**
 * What mining one batch produced.
 *
 * @param records         one per input example, in input order
 * @param generatedTokens tokens decoded for the original greedy responses
 * @param branches        branch rollouts run
 * @param branchTokens    tokens decoded by the branch rollouts (before the budget cut: the work done)
 */
public record BatchResult(List<MaskRecord> records, long generatedTokens, long branches, long branchTokens) {}
