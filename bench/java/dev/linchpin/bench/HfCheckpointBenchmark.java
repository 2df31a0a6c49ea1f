package dev.linchpin.bench;

import dev.linchpin.engine.Branch;
import dev.linchpin.engine.PrefillResult;
import dev.linchpin.engine.RolloutEngine;
import dev.linchpin.engine.RolloutOptions;
import dev.linchpin.engine.RolloutOutput;
import dev.linchpin.engine.Trajectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * The CPU engine on a Hugging Face checkpoint, for the side-by-side runs against transformers'
 * {@code generate} in bench/run-engine-vs-hf-cpu.sh (which runs the peer, bench/hf_peers.py, on the
 * same checkpoint and the same token ids, and compares outputs). Two workloads:
 *
 * <ul>
 *   <li>{@code branches MODEL WORK T MAX_NEW K MAX_BATCH THREADS...}: mask mining's branch rollouts —
 *       a random T-token trajectory (seed 42), prefilled once with its top-(K+1) tokens per position,
 *       a branch at every position 1..T to each of the K alternatives, greedy, MAX_NEW tokens each
 *       (no EOS). Writes WORK/traj.txt, WORK/branches.txt ("point forced" per line) and
 *       WORK/engine-branches-tN.txt (tokens per branch) per thread count.</li>
 *   <li>{@code eval MODEL WORK MAX_NEW SAMPLES TEMPERATURE TOP_P THREADS}: evaluation's decoding — the
 *       prompts of WORK/prompts.txt (token ids per line) prefilled once, one greedy rollout of all of
 *       them, then SAMPLES samples each at TEMPERATURE / TOP_P (seed 7), MAX_NEW tokens (no EOS).
 *       Writes WORK/engine-eval-greedy.txt.</li>
 * </ul>
 * Prints one JSON line per measured run; times include the prefill and exclude loading.
 */
public final class HfCheckpointBenchmark {
    private HfCheckpointBenchmark() {}

    public static void main(String[] args) throws IOException {
        Loader.load(torch.class);
        torch.set_num_threads(1);
        Path model = Path.of(args[1]), work = Path.of(args[2]);
        Files.createDirectories(work);
        switch (args[0]) {
            case "branches" -> branches(model, work, Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]), args);
            case "eval" -> eval(model, work, Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Double.parseDouble(args[5]), Double.parseDouble(args[6]), Integer.parseInt(args[7]));
            default -> throw new IllegalArgumentException("mode must be branches or eval, got " + args[0]);
        }
    }

    private static void branches(Path model, Path work, int T, int maxNew, int k, int maxBatch, String[] args)
            throws IOException {
        for (int a = 7; a < args.length; a++) {
            int threads = Integer.parseInt(args[a]);
            try (RolloutEngine engine = RolloutEngine.fromHuggingFace(model, 4L << 30, threads)) {
                Random rnd = new Random(42);
                long[] traj = new long[T];
                for (int i = 0; i < T; i++) traj[i] = rnd.nextInt(engine.config().vocabSize());
                engine.generate(java.util.Arrays.copyOf(traj, 16), 4, RolloutOptions.greedy(4));   // warm-up
                long t0 = System.nanoTime();
                PrefillResult pre = engine.prefill(List.of(traj), k + 1);
                Trajectory t = pre.trajectories().get(0);
                List<Branch> branches = new ArrayList<>();
                for (int p = 1; p <= T; p++) {
                    for (int alt = 1; alt <= k; alt++) {
                        branches.add(new Branch(t, p, pre.topIds().get(0)[(p - 1) * (k + 1) + alt], branches.size()));
                    }
                }
                List<RolloutOutput> out = engine.rollout(branches, RolloutOptions.greedy(maxNew).withMaxBatch(maxBatch));
                double seconds = (System.nanoTime() - t0) / 1e9;
                engine.release(t);
                long tokens = out.stream().mapToLong(o -> o.tokens().length).sum();
                if (a == 7) {
                    Files.writeString(work.resolve("traj.txt"), join(traj) + "\n");
                    Files.writeString(work.resolve("branches.txt"), branches.stream()
                            .map(b -> b.point() + " " + b.forcedToken()).collect(Collectors.joining("\n")) + "\n");
                }
                Files.writeString(work.resolve("engine-branches-t" + threads + ".txt"),
                        out.stream().map(o -> join(o.tokens())).collect(Collectors.joining("\n")) + "\n");
                System.out.println(String.format(Locale.ROOT,
                        "{\"bench\":\"branches\",\"impl\":\"linchpin_engine\",\"threads\":%d,\"T\":%d,\"k\":%d,"
                                + "\"branches\":%d,\"max_new\":%d,\"max_batch\":%d,\"tokens\":%d,\"seconds\":%.3f,"
                                + "\"tok_s\":%.1f,\"engine\":\"%s\"}",
                        threads, T, k, branches.size(), maxNew, maxBatch, tokens, seconds, tokens / seconds,
                        engine.describe()));
            }
        }
    }

    private static void eval(Path model, Path work, int maxNew, int samples, double temperature, double topP, int threads)
            throws IOException {
        List<long[]> prompts = new ArrayList<>();
        for (String line : Files.readAllLines(work.resolve("prompts.txt"))) {
            if (line.isBlank()) continue;
            String[] f = line.trim().split("\\s+");
            long[] ids = new long[f.length];
            for (int i = 0; i < f.length; i++) ids[i] = Long.parseLong(f[i]);
            prompts.add(ids);
        }
        long loadStart = System.nanoTime();
        try (RolloutEngine engine = RolloutEngine.fromHuggingFace(model, 4L << 30, threads)) {
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            engine.generate(prompts.get(0), 1, RolloutOptions.greedy(2));   // warm-up
            long t0 = System.nanoTime();
            List<Trajectory> ts = engine.prefill(prompts, 0).trajectories();
            List<Branch> greedy = new ArrayList<>(), sampled = new ArrayList<>();
            for (int j = 0; j < prompts.size(); j++) {
                long[] p = prompts.get(j);
                greedy.add(new Branch(ts.get(j), p.length - 1, p[p.length - 1], j));
                for (int i = 0; i < samples; i++) sampled.add(new Branch(ts.get(j), p.length - 1, p[p.length - 1], (long) j * samples + i));
            }
            List<RolloutOutput> g = engine.rollout(greedy, RolloutOptions.greedy(maxNew));
            double greedySeconds = (System.nanoTime() - t0) / 1e9;
            List<RolloutOutput> s = engine.rollout(sampled, RolloutOptions.sampling(maxNew, temperature, topP, 7));
            double seconds = (System.nanoTime() - t0) / 1e9;
            for (Trajectory t : ts) engine.release(t);
            long tokens = g.stream().mapToLong(o -> o.tokens().length).sum() + s.stream().mapToLong(o -> o.tokens().length).sum();
            Files.writeString(work.resolve("engine-eval-greedy.txt"),
                    g.stream().map(o -> join(o.tokens())).collect(Collectors.joining("\n")) + "\n");
            System.out.println(String.format(Locale.ROOT,
                    "{\"bench\":\"eval\",\"impl\":\"linchpin_engine\",\"threads\":%d,\"prompts\":%d,\"samples\":%d,"
                            + "\"max_new\":%d,\"temperature\":%s,\"top_p\":%s,\"tokens\":%d,\"seconds\":%.3f,\"tok_s\":%.2f,"
                            + "\"greedy_seconds\":%.3f,\"load_seconds\":%.1f,\"max_rss_mb\":%d,\"engine\":\"%s\"}",
                    threads, prompts.size(), samples, maxNew, temperature, topP, tokens, seconds, tokens / seconds,
                    greedySeconds, loadSeconds, maxRssMb(), engine.describe()));
        }
    }

    // Peak resident set of this process (VmHWM), MB; -1 where /proc is absent.
    private static long maxRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static String join(long[] ids) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ids.length; i++) b.append(i > 0 ? " " : "").append(ids[i]);
        return b.toString();
    }
}
