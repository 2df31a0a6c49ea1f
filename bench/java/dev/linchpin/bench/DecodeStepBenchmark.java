package dev.linchpin.bench;

import dev.linchpin.engine.Branch;
import dev.linchpin.engine.CausalLMEngines;
import dev.linchpin.engine.PrefillResult;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.engine.Trajectory;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Is a decode step's cost linear in the generated length? The CPU engine decodes B branches of one
 * T-token trajectory (branch points spread over its second half, EOS never hit) and the time of one
 * decode step is measured around step 10 and around step 200: a step's attention reads the branch's
 * prefix plus its suffix, so step 200 may cost a little more than step 10 (≈ 190 more keys per
 * branch against ~T shared ones), but a step that recomputed every suffix row (quadratic decode)
 * would cost ~20x more. Goal: step 200 within 1.3x of step 10 at T = 1024.
 *
 * <p>Per-step time at step s = (time of a run of s + W new tokens − time of a run of s new tokens) / W
 * with W = 50, both runs back to back on the same prefilled trajectory; the median over REPS such
 * pairs. The time is the process's CPU time (all its threads: the engine's pool included): unlike
 * wall time it does not count the moments a shared machine gives the cores to someone else, so the
 * ratio holds under load (wall-clock figures are printed beside it; on a quiet machine they agree).
 * Linux reports process CPU time in 10 ms ticks: W = 50 steps make that 0.2 ms per step.
 * Same model as {@link EngineBranchBenchmark}. Prints one JSON line.
 *
 * <p>Usage: DecodeStepBenchmark [T branches threads reps]
 */
public final class DecodeStepBenchmark {
    private static final int W = 50;

    private DecodeStepBenchmark() {}

    public static void main(String[] args) {
        int T = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int nBranches = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int reps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Loader.load(torch.class);
        torch.set_num_threads(1);
        ModelConfig config = EngineBranchBenchmark.smallLlama();
        CausalLM model = CausalLM.randomInit(config, 1234);
        Random rnd = new Random(42);
        long[] traj = new long[T];
        for (int i = 0; i < T; i++) traj[i] = rnd.nextInt(config.vocabSize());
        try (RolloutEngine engine = CausalLMEngines.fromModel(model, 1L << 30, threads)) {
            PrefillResult pre = engine.prefill(List.of(traj), 0);
            Trajectory t = pre.trajectories().get(0);
            List<Branch> branches = new ArrayList<>();
            for (int i = 0; i < nBranches; i++) {
                int point = T / 2 + (int) ((long) (T / 2) * (i + 1) / nBranches);   // second half, the last at T
                branches.add(new Branch(t, point, rnd.nextInt(config.vocabSize()), i));
            }
            run(engine, branches, 4);   // warm-up (JIT, page faults)
            int[] at = {10, 200};
            double[][] perStep = new double[at.length][reps], perStepWall = new double[at.length][reps];
            for (int r = 0; r < reps; r++) {
                for (int k = 0; k < at.length; k++) {
                    double[] shorter = run(engine, branches, at[k]);
                    double[] longer = run(engine, branches, at[k] + W);
                    perStep[k][r] = (longer[0] - shorter[0]) / W;
                    perStepWall[k][r] = (longer[1] - shorter[1]) / W;
                }
            }
            double s10 = median(perStep[0]), s200 = median(perStep[1]);
            System.out.println(String.format(Locale.ROOT,
                    "{\"bench\":\"decode_step_cpu\",\"T\":%d,\"branches\":%d,\"threads\":%d,\"reps\":%d,\"window\":%d,"
                            + "\"ms_per_step_at_10\":%.3f,\"ms_per_step_at_200\":%.3f,\"ratio_200_over_10\":%.3f,"
                            + "\"samples_ms_at_10\":%s,\"samples_ms_at_200\":%s,\"wall_ms_per_step_at_10\":%.3f,"
                            + "\"wall_ms_per_step_at_200\":%.3f,\"time\":\"%s\",\"engine\":\"%s\"}",
                    T, nBranches, threads, reps, W, s10 * 1e3, s200 * 1e3, s200 / s10, ms(perStep[0]), ms(perStep[1]),
                    median(perStepWall[0]) * 1e3, median(perStepWall[1]) * 1e3,
                    "process CPU time", engine.describe()));
        }
    }

    // {process CPU seconds, wall seconds} of one rollout of every branch to maxNew tokens.
    private static double[] run(RolloutEngine engine, List<Branch> branches, int maxNew) {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
        engine.rollout(branches, RolloutOptions.greedy(maxNew).withMaxBatch(branches.size()));
        return new double[] {(os.getProcessCpuTime() - c0) / 1e9, (System.nanoTime() - t0) / 1e9};
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String ms(double[] x) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < x.length; i++) b.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", x[i] * 1e3));
        return b.append("]").toString();
    }
}
