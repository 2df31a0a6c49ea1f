package dev.linchpin.bench;

import dev.linchpin.engine.Branch;
import dev.linchpin.engine.CausalLMEngines;
import dev.linchpin.engine.PrefillResult;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.engine.RolloutOutput;
import dev.linchpin.engine.Trajectory;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * CPU branch-rollout throughput: the engine (one prefill of the trajectory, all branches
 * sharing its KV through staircase attention, continuous batching) vs the naive baseline a generic
 * {@code generate()} gives: each branch re-prefills its own prefix (trajectory[0, t) + alternative)
 * into a private KV cache and decodes alone. Both run the same native kernels, so the ratio measures
 * the sharing and batching, not two implementations. Mask-mining shape: a T-token trajectory, the
 * top-2 alternatives (k = 2) at every position, greedy, maxNew tokens per branch (no EOS, so both
 * sides generate exactly the same number of tokens). Prints one JSON line; also checks that the two
 * produce the same tokens.
 *
 * <p>Usage: EngineBranchBenchmark [T maxNew threads maxBatch [engine-only]] — "engine-only" skips the
 * naive baseline (for profiling and thread scaling; speedup and identical_outputs are then absent).
 */
public final class EngineBranchBenchmark {
    private EngineBranchBenchmark() {}

    /** The benchmarks' small Llama: 4 layers, d=256, GQA 8/2, vocab 4096 (≈ 4.9M parameters). */
    static ModelConfig smallLlama() {
        return ModelConfig.builder(ModelFamily.LLAMA).vocabSize(4096).hiddenSize(256).intermediateSize(704)
                .numLayers(4).numHeads(8).numKvHeads(2).maxPositionEmbeddings(4096).build();
    }

    public static void main(String[] args) {
        int T = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int maxNew = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int maxBatch = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        boolean engineOnly = args.length > 4 && args[4].equals("engine-only");
        Loader.load(torch.class);
        torch.set_num_threads(1);
        ModelConfig config = smallLlama();
        CausalLM model = CausalLM.randomInit(config, 1234);
        Random rnd = new Random(42);
        long[] traj = new long[T];
        for (int i = 0; i < T; i++) traj[i] = rnd.nextInt(config.vocabSize());
        int k = 2;
        try (RolloutEngine engine = CausalLMEngines.fromModel(model, 1L << 30, threads)) {
            // Warm-up (JIT, page faults) on a short trajectory.
            engine.generate(Arrays.copyOf(traj, 16), 4, RolloutOptions.greedy(4));

            long t0 = System.nanoTime();
            PrefillResult pre = engine.prefill(List.of(traj), k + 1);
            Trajectory t = pre.trajectories().get(0);
            List<Branch> branches = new ArrayList<>();
            for (int p = 1; p <= T; p++) {               // branch at every position t >= 1: alternatives from row t-1
                for (int a = 1; a <= k; a++) branches.add(new Branch(t, p, pre.topIds().get(0)[(p - 1) * (k + 1) + a], branches.size()));
            }
            List<RolloutOutput> staircase = engine.rollout(branches, RolloutOptions.greedy(maxNew).withMaxBatch(maxBatch));
            double engineSeconds = (System.nanoTime() - t0) / 1e9;
            engine.release(t);

            long tokens = 0;
            for (RolloutOutput o : staircase) tokens += o.tokens().length;
            if (engineOnly) {
                System.out.println(String.format(Locale.ROOT,
                        "{\"T\":%d,\"k\":%d,\"branches\":%d,\"max_new\":%d,\"threads\":%d,\"max_batch\":%d,"
                                + "\"branch_tokens\":%d,\"engine_s\":%.3f,\"engine_tok_s\":%.1f}",
                        T, k, branches.size(), maxNew, threads, maxBatch, tokens, engineSeconds, tokens / engineSeconds));
                return;
            }

            long t1 = System.nanoTime();
            List<long[]> naive = new ArrayList<>();
            for (Branch b : branches) {
                long[] prefix = Arrays.copyOf(traj, b.point() + 1);
                prefix[b.point()] = b.forcedToken();
                naive.add(engine.generate(prefix, 1, RolloutOptions.greedy(maxNew).withMaxBatch(1)).get(0).tokens());
            }
            double naiveSeconds = (System.nanoTime() - t1) / 1e9;

            int same = 0;
            for (int i = 0; i < branches.size(); i++) {
                if (Arrays.equals(staircase.get(i).tokens(), naive.get(i))) same++;
            }
            System.out.println(String.format(Locale.ROOT,
                    "{\"T\":%d,\"k\":%d,\"branches\":%d,\"max_new\":%d,\"threads\":%d,\"max_batch\":%d,\"branch_tokens\":%d,"
                            + "\"engine_s\":%.3f,\"naive_s\":%.3f,\"engine_tok_s\":%.1f,\"naive_tok_s\":%.1f,\"speedup\":%.2f,"
                            + "\"identical_outputs\":%d}",
                    T, k, branches.size(), maxNew, threads, maxBatch, tokens, engineSeconds, naiveSeconds, tokens / engineSeconds,
                    tokens / naiveSeconds, naiveSeconds / engineSeconds, same));
        }
    }
}
