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
 *       alternative, rollout): rollout r of alternative a at t of the example at data position i has
 *       request id {@code mix(mix(mix(i·φ ^ t)·c1 ^ a)·c2 ^ r) & 0x7fff…ff} ({@code mix} SplitMix64's
 *       finaliser, φ = 0x9E3779B97F4A7C15, c1 = 0xC2B2AE3D27D4EB4F, c2 = 0x165667B19E3779F9; see
 *       {@code CriticalTokenMiner.requestId}), and its token at step s (tokens generated so far) draws
 *       u = counter_uniform(seed, request id, s) as linchpin.h documents.</li>
 *   <li><b>Vocabulary.</b> Responses, alternatives and continuations use the tokenizer's ids only: the
 *       padded embedding rows of a checkpoint (Qwen3: 151936 rows, 151669 ids) are never chosen, and
 *       probabilities are softmax over the tokenizer's ids.</li>
 *   <li><b>Failures.</b> An example that cannot be mined (its prompt does not fit the KV budget, its text
 *       cannot be encoded, decoded or verified) gets a record with {@code error} set, {@code kept=false}
 *       and no response; it counts as finished. {@link dev.linchpin.engine.ItemFailures} says which
 *       failures are an example's and when a job stops instead.</li>
 * </ul>
 */
package dev.linchpin.mine;
