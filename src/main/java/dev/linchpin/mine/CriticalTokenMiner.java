package dev.linchpin.mine;

import dev.linchpin.engine.ItemFailures;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.engine.Branch;
import dev.linchpin.engine.PrefillResult;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.engine.RolloutOutput;
import dev.linchpin.engine.Trajectory;
import dev.linchpin.verify.Verdict;
import dev.linchpin.verify.Verifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * CFT's identification of critical tokens (docs/ARCHITECTURE.md, "The methods") on the rollout engine, one batch
 * of examples at a time:
 * <ol>
 *   <li>greedy response y to each prompt (all prompts of the batch decode together); verify it against
 *       the gold answer; only correct ones are kept (D_correct);</li>
 *   <li>prefill each kept (prompt, y) once with its top k + 1 next tokens per position;</li>
 *   <li>at each response position t of the span, the alternatives are the k most probable tokens other
 *       than y_t (= ranks 2..k+1, since y_t is the arg-max); t = 0 needs no special case: its
 *       distribution is the prefill row of the last prompt token;</li>
 *   <li>each alternative's prefix (prompt, y_&lt;t, alternative) is continued by a branch rollout that
 *       shares the trajectory's KV (staircase attention); the branched response is decoded and verified;</li>
 *   <li>c_t = 1 iff every alternative fails (with n sampled rollouts: an alternative fails iff at least
 *       the failure threshold of its continuations is wrong).</li>
 * </ol>
 * The EOS position is a response position like any other (the CFT loss covers every response token, EOS
 * included): its alternatives are "keep writing instead of stopping".
 *
 * <p>Not thread-safe (the engine runs one call at a time anyway).
 */
public final class CriticalTokenMiner {
    private final RolloutEngine engine;
    private final PromptEncoder prompts;
    private final TokenText text;
    private final Verifier verifier;
    private final MiningOptions options;
    private final long[] eosIds;

    /**
     * @param eosIds the ids that end a response (tokenizer's and model config's)
     */
    public CriticalTokenMiner(RolloutEngine engine, PromptEncoder prompts, TokenText text, Verifier verifier,
            MiningOptions options, long[] eosIds) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.prompts = Objects.requireNonNull(prompts, "prompts");
        this.text = Objects.requireNonNull(text, "text");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.options = Objects.requireNonNull(options, "options");
        this.eosIds = eosIds.clone();
        if (options.k() + 1 > engine.validTokens()) {
            throw new IllegalArgumentException("k = " + options.k() + " needs a vocabulary of more than k tokens");
        }
    }

    /** An example and its 0-based position in the data file. */
    public record Input(long index, Example example) {}

    /** Mines one batch; returns one record per input, in input order. */
    public BatchResult mine(List<Input> batch) {
        if (batch.isEmpty()) return new BatchResult(List.of(), 0, 0, 0);
        int n = batch.size();
        long[][] promptIds = new long[n][];
        for (int i = 0; i < n; i++) {
            Example e = batch.get(i).example();
            if (e.goldAnswer() == null) {
                throw new IllegalArgumentException(e.sourceFile() + ":" + e.line() + ": example " + e.id() + " has no gold answer");
            }
            promptIds[i] = prompts.encode(e);
            if (promptIds[i].length == 0) {
                throw new IllegalArgumentException(e.sourceFile() + ":" + e.line() + ": example " + e.id() + " has an empty prompt");
            }
        }
        long[][] responses = greedyResponses(promptIds);
        long generated = 0;
        List<Integer> keptIdx = new ArrayList<>();
        Verdict[] verdicts = new Verdict[n];
        for (int i = 0; i < n; i++) {
            generated += responses[i].length;
            verdicts[i] = verifier.verify(text.decode(responses[i]), batch.get(i).example().goldAnswer());
            if (verdicts[i].correct() && responses[i].length > 0) keptIdx.add(i);
        }
        List<List<MaskRecord.Position>> positions = new ArrayList<>();
        for (int i = 0; i < n; i++) positions.add(List.of());
        long[] work = {0, 0};
        if (!keptIdx.isEmpty()) branch(batch, promptIds, responses, keptIdx, positions, work);
        List<MaskRecord> records = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Example e = batch.get(i).example();
            List<Integer> critical = new ArrayList<>();
            for (MaskRecord.Position p : positions.get(i)) if (p.critical()) critical.add(p.t());
            List<String> tokenTexts = new ArrayList<>(responses[i].length);
            for (long id : responses[i]) tokenTexts.add(text.token(id));
            records.add(new MaskRecord(e.id(), batch.get(i).index(), e.prompt(), e.goldAnswer(), keptIdx.contains(i),
                    verdicts[i].extracted(), promptIds[i].length, responses[i], tokenTexts, text.decode(responses[i]),
                    critical, positions.get(i)));
        }
        return new BatchResult(records, generated, work[0], work[1]);
    }

    /**
     * Mines one batch, isolating failures: when the batch fails for a reason that may be one example's
     * ({@link ItemFailures#isItemSpecific}), each example is mined alone, and one that still fails gets
     * a {@link MaskRecord#failed} record with the reason. Records do not depend on the batch, so the
     * others come out byte for byte as in one batch. A failure that is not an example's propagates.
     */
    public BatchResult mineEach(List<Input> batch) {
        try {
            return mine(batch);
        } catch (RuntimeException e) {
            if (!ItemFailures.isItemSpecific(e)) throw e;
            if (batch.size() == 1) return new BatchResult(List.of(failedRecord(batch.get(0), e)), 0, 0, 0);
        }
        List<MaskRecord> records = new ArrayList<>();
        long generated = 0, branches = 0, branchTokens = 0;
        for (Input in : batch) {
            try {
                BatchResult one = mine(List.of(in));
                records.addAll(one.records());
                generated += one.generatedTokens();
                branches += one.branches();
                branchTokens += one.branchTokens();
            } catch (RuntimeException e) {
                if (!ItemFailures.isItemSpecific(e)) throw e;
                records.add(failedRecord(in, e));
            }
        }
        return new BatchResult(records, generated, branches, branchTokens);
    }

    private static MaskRecord failedRecord(Input in, RuntimeException e) {
        Example x = in.example();
        return MaskRecord.failed(x.id(), in.index(), x.prompt(), x.goldAnswer(), ItemFailures.reason(e));
    }

    /** Greedy responses of all prompts: one branch per prompt at its last token, all decoded together. */
    private long[][] greedyResponses(long[][] promptIds) {
        List<Trajectory> live = new ArrayList<>();
        try {
            List<Branch> branches = new ArrayList<>();
            for (int i = 0; i < promptIds.length; i++) {
                long[] p = promptIds[i];
                // Prefilled one by one for batch-independent numerics (see branch()); decoded together.
                live.add(engine.prefill(List.<long[]>of(p), 0).trajectories().get(0));
                branches.add(new Branch(live.get(i), p.length - 1, p[p.length - 1], i));
            }
            RolloutOptions greedy = RolloutOptions.greedy(options.maxNewTokens(), eosIds).withMaxBatch(options.maxBranches());
            List<RolloutOutput> out = engine.rollout(branches, greedy);
            long[][] responses = new long[promptIds.length][];
            for (int i = 0; i < responses.length; i++) responses[i] = out.get(i).tokens();
            return responses;
        } finally {
            for (Trajectory t : live) engine.release(t);
        }
    }

    /** One branch to roll out and where its result belongs. */
    private record Job(int example, int t, int alternative, int rollout, int allowance) {}

    private void branch(List<Input> batch, long[][] promptIds, long[][] responses, List<Integer> keptIdx,
            List<List<MaskRecord.Position>> positionsOut, long[] work) {
        int k = options.k(), topN = k + 1, n = options.rollouts();
        List<long[]> trajectories = new ArrayList<>();
        for (int i : keptIdx) trajectories.add(prefixThen(promptIds[i], promptIds[i].length, responses[i]));
        // One prefill call per trajectory: the probabilities written to the record must not depend on
        // which examples share a batch (batched GEMMs round differently), or a resumed or sharded run
        // would not reproduce an uninterrupted one byte for byte.
        List<Trajectory> live = new ArrayList<>();
        List<long[]> topIds = new ArrayList<>();
        List<float[]> topProbs = new ArrayList<>();
        try {
            for (long[] trajectory : trajectories) {
                PrefillResult one = engine.prefill(List.<long[]>of(trajectory), topN);
                live.add(one.trajectories().get(0));
                topIds.add(one.topIds().get(0));
                topProbs.add(one.topProbs().get(0));
            }
            List<Branch> branches = new ArrayList<>();
            List<Job> jobs = new ArrayList<>();
            long[][][] alternatives = new long[keptIdx.size()][][];
            float[][][] altProbs = new float[keptIdx.size()][][];
            Float[][] tokenProbs = new Float[keptIdx.size()][];
            int maxAllowance = 1;
            for (int j = 0; j < keptIdx.size(); j++) {
                int i = keptIdx.get(j), p = promptIds[i].length, len = responses[i].length;
                int budget = options.branchedResponseBudget(len);
                int from = options.spanFrom(len), to = options.spanTo(len);
                alternatives[j] = new long[len][];
                altProbs[j] = new float[len][];
                tokenProbs[j] = new Float[len];
                long[] ids = topIds.get(j);
                float[] probs = topProbs.get(j);
                for (int t = from; t < to; t++) {
                    int row = (p + t - 1) * topN;   // the distribution of response token t
                    long[] alts = new long[k];
                    float[] ap = new float[k];
                    int got = 0;
                    for (int r = 0; r < topN; r++) {
                        if (ids[row + r] == responses[i][t]) {
                            tokenProbs[j][t] = probs[row + r];
                        } else if (got < k) {
                            alts[got] = ids[row + r];
                            ap[got++] = probs[row + r];
                        }
                    }
                    alternatives[j][t] = alts;
                    altProbs[j][t] = ap;
                    int allowance = budget - t - 1;
                    maxAllowance = Math.max(maxAllowance, allowance);
                    for (int a = 0; a < k; a++) {
                        for (int r = 0; r < n; r++) {
                            branches.add(new Branch(live.get(j), p + t, alts[a],
                                    requestId(batch.get(i).index(), t, a, r)));
                            jobs.add(new Job(j, t, a, r, allowance));
                        }
                    }
                }
            }
            if (branches.isEmpty()) {
                for (int i : keptIdx) positionsOut.set(i, List.of());
                return;
            }
            RolloutOptions ro = new RolloutOptions(maxAllowance, eosIds, List.of(), options.greedy() ? 0.0 : options.temperature(),
                    options.greedy() ? 1.0 : options.topP(), options.seed(), options.maxBranches());
            // Decode and verify each branch as it finishes, keeping only the verdicts.
            MaskRecord.Continuation[] results = new MaskRecord.Continuation[branches.size()];
            engine.rollout(branches, ro, out -> {
                Job job = jobs.get(out.index());
                int i = keptIdx.get(job.example());
                work[1] += out.tokens().length;
                long[] cont = out.tokens().length > job.allowance() ? Arrays.copyOf(out.tokens(), job.allowance()) : out.tokens();
                long[] branched = prefixThen(prefixThen(responses[i], job.t(),
                        new long[] {alternatives[job.example()][job.t()][job.alternative()]}), job.t() + 1, cont);
                Verdict v = verifier.verify(text.decode(branched), batch.get(i).example().goldAnswer());
                results[out.index()] = new MaskRecord.Continuation(v.extracted(), v.correct(), cont.length);
            });
            work[0] += branches.size();
            assemble(keptIdx, responses, alternatives, altProbs, tokenProbs, jobs, results, positionsOut);
        } finally {
            for (Trajectory t : live) engine.release(t);
        }
    }

    private void assemble(List<Integer> keptIdx, long[][] responses, long[][][] alternatives, float[][][] altProbs,
            Float[][] tokenProbs, List<Job> jobs, MaskRecord.Continuation[] results, List<List<MaskRecord.Position>> out) {
        int k = options.k(), n = options.rollouts();
        int at = 0;   // jobs are in (example, t, alternative, rollout) order
        for (int j = 0; j < keptIdx.size(); j++) {
            int i = keptIdx.get(j);
            List<MaskRecord.Position> positions = new ArrayList<>();
            for (int t = 0; t < responses[i].length; t++) {
                if (alternatives[j][t] == null) continue;
                List<MaskRecord.Alternative> alts = new ArrayList<>(k);
                boolean allFailed = true;
                for (int a = 0; a < k; a++) {
                    List<MaskRecord.Continuation> conts = new ArrayList<>(n);
                    int wrong = 0;
                    for (int r = 0; r < n; r++, at++) {
                        Job job = jobs.get(at);
                        if (job.example() != j || job.t() != t || job.alternative() != a || job.rollout() != r) {
                            throw new IllegalStateException("branch bookkeeping out of order at " + at);
                        }
                        conts.add(results[at]);
                        if (!results[at].correct()) wrong++;
                    }
                    boolean failed = wrong >= options.failureThreshold() * n - 1e-9;
                    allFailed &= failed;
                    long alt = alternatives[j][t][a];
                    alts.add(new MaskRecord.Alternative(alt, text.token(alt), altProbs[j][t][a], failed, conts));
                }
                positions.add(new MaskRecord.Position(t, responses[i][t], tokenProbs[j][t], allFailed, alts));
            }
            out.set(i, positions);
        }
    }

    /**
     * The sampling key of one continuation: a function of the example's data position, t, the
     * alternative and the rollout only, so a sample does not depend on batch composition or sharding.
     */
    static long requestId(long index, int t, int alternative, int rollout) {
        long h = index * 0x9E3779B97F4A7C15L;
        h = mix(h ^ t) * 0xC2B2AE3D27D4EB4FL;
        h = mix(h ^ alternative) * 0x165667B19E3779F9L;
        return mix(h ^ rollout) & Long.MAX_VALUE;
    }

    private static long mix(long z) {   // SplitMix64's finaliser
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The first {@code length} tokens of {@code a} followed by all of {@code b}. */
    static long[] prefixThen(long[] a, int length, long[] b) {
        long[] out = Arrays.copyOf(a, length + b.length);
        System.arraycopy(b, 0, out, length, b.length);
        return out;
    }
}
