package dev.linchpin.model;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Small-scale decoding of one sequence with a {@link KvCache}: greedy, or sampled with temperature
 * and nucleus (top-p) filtering. Bulk generation belongs to the rollout engine. Token choice is
 * made on CPU in double precision from each step's logits, and sampling draws from a
 * {@link SplittableRandom} seeded by the caller, so a seed reproduces the same tokens.
 */
public final class Generation {
    private Generation() {}

    /**
     * Greedy decoding: the arg-max token (lowest id on ties) at each step.
     *
     * @return the new tokens (at most {@code maxNew}), ending with an EOS id when one was produced
     */
    public static long[] greedy(CausalLM model, long[] promptIds, int maxNew, long[] eosIds) {
        return decode(model, promptIds, maxNew, eosIds, logits -> argmax(logits));
    }

    /**
     * Sampling from {@code softmax(logits / temperature)} restricted to the smallest set of most
     * probable tokens whose probability reaches {@code topP} (1.0 = no restriction).
     * {@code temperature <= 0} means greedy.
     */
    public static long[] sample(CausalLM model, long[] promptIds, int maxNew, long[] eosIds, double temperature,
            double topP, long seed) {
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        if (Double.isNaN(temperature)) throw new IllegalArgumentException("temperature is NaN");
        SplittableRandom rnd = new SplittableRandom(seed);
        return decode(model, promptIds, maxNew, eosIds,
                logits -> temperature <= 0 ? argmax(logits) : draw(logits, temperature, topP, rnd.nextDouble()));
    }

    private interface Chooser {
        int choose(double[] logits);
    }

    private static long[] decode(CausalLM model, long[] promptIds, int maxNew, long[] eosIds, Chooser chooser) {
        if (promptIds == null || promptIds.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (maxNew < 0) throw new IllegalArgumentException("maxNew must be >= 0");
        long[] eos = eosIds == null ? new long[0] : eosIds.clone();
        KvCache cache = model.newCache(1, promptIds.length + Math.max(maxNew, 1));
        long[] out = new long[maxNew];
        int n = 0;
        try (PointerScope scope = new PointerScope()) {
            Tensor input = Tensor.create(promptIds).view(1, promptIds.length).to(model.device(), ScalarType.Long);
            while (n < maxNew) {
                double[] logits = lastRow(model.forwardIncremental(input, cache));
                int token = chooser.choose(logits);
                out[n++] = token;
                if (contains(eos, token)) break;
                input = Tensor.create(new long[] {token}).view(1, 1).to(model.device(), ScalarType.Long);
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static double[] lastRow(Tensor logits) {
        Tensor row = logits.select(1, logits.size(1) - 1).select(0, 0).to(ScalarType.Double).cpu().contiguous();
        double[] out = new double[(int) row.numel()];
        new org.bytedeco.javacpp.DoublePointer(row.data_ptr()).get(out);
        for (double v : out) if (Double.isNaN(v)) throw new IllegalStateException("model produced NaN logits");
        return out;
    }

    static int argmax(double[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Draws a token with uniform {@code u} in [0, 1) from the temperature- and top-p-filtered distribution. */
    static int draw(double[] logits, double temperature, double topP, double u) {
        int v = logits.length;
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logits) max = Math.max(max, l);
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> p[b] != p[a] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int keep = 0;
        double mass = 0;
        while (keep < v && (keep == 0 || mass < topP * sum)) mass += p[order[keep++]];
        double target = u * mass, acc = 0;
        for (int k = 0; k < keep; k++) {
            acc += p[order[k]];
            if (target < acc) return order[k];
        }
        return order[keep - 1];
    }

    private static boolean contains(long[] ids, long id) {
        for (long e : ids) if (e == id) return true;
        return false;
    }
}
