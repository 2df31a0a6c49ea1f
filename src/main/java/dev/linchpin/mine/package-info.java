/**
 * Critical-token mining (CFT, Ruan et al., arXiv 2510.10974): {@link dev.linchpin.mine.CriticalTokenMiner}
 * implements the identification on the rollout engine, {@link dev.linchpin.mine.MiningRun} the resumable
 * job behind {@code linchpin mine}, {@link dev.linchpin.mine.MasksFile} the crash-safe JSONL output.
 *
 * <h2>Exact rules and edge cases</h2>
 * <ul>
 *   <li><b>Response.</b> The model's own greedy decoding of the formatted prompt (arg-max, ties to the
 *       lowest id), at most {@code max-new-tokens} tokens, stopping after an EOS id (tokenizer's and
 *       model config's EOS ids united). The verifier reads it decoded with special tokens skipped.</li>
 *   <li><b>D_correct.</b> Examples whose response the {@link dev.linchpin.verify.Verifier} judges
 *       equivalent to the gold answer. Others get a record with {@code kept=false} and no positions
 *       (so that a resumed run skips them too).</li>
 *   <li><b>Positions.</b> Every response position t in [span-start, span-end) ∩ [0, L), L the response
 *       length. The EOS token, when the response ends with one, is a position: the paper's loss covers
 *       every response token, EOS included, so whether stopping is critical is mined too (its
 *       alternatives are "keep writing"). t = 0 needs no special case: its distribution is the last
 *       prompt token's row of the prefill.</li>
 *   <li><b>Alternatives.</b> The k most probable tokens at t other than y_t (= ranks 2..k+1, y_t being
 *       the arg-max), probabilities from the model's softmax at temperature 1. If a near-tie made y_t
 *       not the prefill's arg-max, the k most probable others are still taken and y_t's probability
 *       is recorded as null when it is not among the top k + 1.</li>
 *   <li><b>Continuations.</b> prompt + y_&lt;t + alternative, then greedy (or n samples) until EOS or the
 *       branched response's budget: at most min(max-new-tokens, L + branch-margin) tokens in all
 *       (y_&lt;t and the alternative included). The budget is the original's, tightened by the margin
 *       so that branches that never stop cost little. The whole branched response is verified.</li>
 *   <li><b>c_t.</b> 1 iff every alternative fails; an alternative fails iff at least
 *       failure-threshold × n of its continuations are wrong (n = 1, threshold 1: the paper).</li>
 *   <li><b>Determinism.</b> Records contain no timestamps. Each example is prefilled alone, so recorded
 *       probabilities do not depend on batch composition; greedy tokens are batch-independent up to
 *       exact float near-ties. Sampled continuations are keyed by (seed, example position, t,
 *       alternative, rollout).</li>
 * </ul>
 */
package dev.linchpin.mine;
