package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.testing.TinyModels;
import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * Sampling at non-default settings (temperature 0.7, top-p 0.8), token by token, against a reference
 * written here from the documented rule (linchpin.h, lp_cpu_sample): the Java model's logits of the
 * sequence so far (in double), u = counter_uniform(seed, request, step) with SplitMix64 chained over
 * the three (checked against SplitMix64's published first output), softmax(logits / T), the most
 * probable tokens (ties to the lowest id) holding top_p of the mass, and the token where u · kept mass
 * falls. Teacher-forced on the engine's own tokens, so one doubtful step cannot derail the rest; a step
 * whose decision lies within 1e-5 of a boundary (closer than fp32 logit differences can be trusted) is
 * not compared, and at most one such step is allowed. The same uniforms under T = 1, top-p = 1 must
 * pick a different token somewhere: settings that were silently ignored would fail here.
 */
class RolloutEngineSamplingTest {
    private static final long BUDGET = 64L << 20;
    private static final double T = 0.7, TOP_P = 0.8;

    @Test
    void splitMix64MatchesItsPublishedFirstOutput() {
        assertEquals(0xE220A8397B1DCDAFL, mix(0));
    }

    @Test
    void sampledTokensAtT07TopP08FollowTheDocumentedRuleOnTheJavaLogits() {
        long seed = TorchTesting.seed("engine sampling T=0.7 top-p=0.8");
        Random rnd = new Random(seed);
        ModelConfig config = TinyModels.base(ModelFamily.LLAMA).build();
        int samples = 4, maxNew = 16;
        try (PointerScope scope = new PointerScope()) {
            CausalLM model = TinyModels.randomModel(config);
            long[] prompt = TinyModels.randomIds(rnd, 9, config.vocabSize());
            long samplingSeed = rnd.nextLong();
            List<RolloutOutput> out;
            try (RolloutEngine engine = CausalLMEngines.fromModel(model, BUDGET, 2)) {
                out = engine.generate(prompt, samples, RolloutOptions.sampling(maxNew, T, TOP_P, samplingSeed));
            }
            int compared = 0, doubtful = 0, nonArgmax = 0, cutMattered = 0, settingsMattered = 0;
            for (int i = 0; i < samples; i++) {
                long[] tokens = out.get(i).tokens();
                assertEquals(maxNew, tokens.length, "no EOS: every sample runs to maxNew");
                long[] seq = Arrays.copyOf(prompt, prompt.length + maxNew);
                System.arraycopy(tokens, 0, seq, prompt.length, maxNew);
                double[][] logits = EngineTesting.javaLogits(model, Arrays.copyOf(seq, prompt.length + maxNew - 1));
                double sumLogProb = 0, sumEntropy = 0;
                for (int s = 0; s < maxNew; s++) {
                    double[] z = logits[prompt.length - 1 + s];
                    double u = uniform(samplingSeed, i, s);   // generate(): sample i has request id i
                    Pick ref = sample(z, T, TOP_P, u);
                    Pick plain = sample(z, 1.0, 1.0, u);
                    if (ref.margin < 1e-5) {
                        doubtful++;
                    } else {
                        compared++;
                        assertEquals(ref.token, tokens[s], "sample " + i + " step " + s + ": u = " + u);
                    }
                    if (tokens[s] != argmax(z)) nonArgmax++;
                    if (ref.kept < z.length) cutMattered++;
                    if (plain.token != tokens[s]) settingsMattered++;
                    double lse = logSumExp(z);
                    sumLogProb += z[(int) tokens[s]] - lse;
                    double h = 0;
                    for (double x : z) {
                        double p = Math.exp(x - lse);
                        if (p > 0) h -= p * Math.log(p);
                    }
                    sumEntropy += h;
                }
                assertEquals(sumLogProb, out.get(i).sumLogProb(), 1e-3, "sample " + i + ": Σ log p at temperature 1");
                assertEquals(sumEntropy / maxNew, out.get(i).meanEntropy(), 1e-4, "sample " + i + ": mean entropy");
            }
            System.out.printf("compared %d steps (%d doubtful), %d not the arg-max, nucleus cut active at %d, "
                    + "T=1/top-p=1 would differ at %d%n", compared, doubtful, nonArgmax, cutMattered, settingsMattered);
            assertTrue(doubtful <= 1, doubtful + " steps sat on a boundary");
            assertTrue(nonArgmax > 0, "every sampled token was the arg-max: not sampling");
            assertTrue(cutMattered > 0, "top-p 0.8 never cut a token");
            assertTrue(settingsMattered > 0, "T=0.7/top-p=0.8 picked what T=1/top-p=1 picks with the same uniforms");
        }
    }

    /** A sampled token, how many tokens the nucleus kept, and the distance of the decision to the nearest boundary. */
    private record Pick(long token, int kept, double margin) {}

    private static Pick sample(double[] z, double temperature, double topP, double u) {
        int v = z.length;
        double m = Arrays.stream(z).max().orElseThrow();
        double[] p = new double[v];
        double total = 0;
        for (int i = 0; i < v; i++) total += p[i] = Math.exp((z[i] - m) / temperature);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < v; i++) order.add(i);
        order.sort((a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        int kept = v;
        double mass = total, margin = Double.POSITIVE_INFINITY;
        if (topP < 1) {
            kept = 0;
            mass = 0;
            while (kept < v && (kept == 0 || mass < topP * total)) mass += p[order.get(kept++)];
            // how far the cut is from moving: the mass before and after the last kept token vs top_p · total
            margin = Math.min(margin, Math.abs((mass - p[order.get(kept - 1)]) - topP * total) / total);
            margin = Math.min(margin, Math.abs(mass - topP * total) / total);
        }
        double target = u * mass, acc = 0;
        long token = order.get(kept - 1);
        for (int k = 0; k < kept; k++) {
            double next = acc + p[order.get(k)];
            margin = Math.min(margin, Math.abs(next - target) / total);
            if (target < next) {
                token = order.get(k);
                break;
            }
            acc = next;
        }
        return new Pick(token, kept, margin);
    }

    private static long argmax(double[] z) {
        int best = 0;
        for (int i = 1; i < z.length; i++) if (z[i] > z[best]) best = i;
        return best;
    }

    private static double logSumExp(double[] z) {
        double m = Arrays.stream(z).max().orElseThrow(), s = 0;
        for (double x : z) s += Math.exp(x - m);
        return m + Math.log(s);
    }

    /** SplitMix64's output function (Steele, Lea, Flood 2014; the reference C code's next()). */
    private static long mix(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** linchpin.h's counter RNG: splitmix64 chained over (seed, request, step); the top 53 bits as a double in [0, 1). */
    private static double uniform(long seed, long request, long step) {
        long h = mix(mix(mix(seed) ^ request) ^ step);
        return (h >>> 11) * 0x1.0p-53;
    }
}
