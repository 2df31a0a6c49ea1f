package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Tiny models, random weighted examples, and a float64 autograd reference loss for trainer tests. */
final class ObjectiveTesting {
    static final long PAD = 0;

    private ObjectiveTesting() {}

    static ModelConfig tinyConfig() {
        return ModelConfig.builder(ModelFamily.LLAMA).vocabSize(64).hiddenSize(32).intermediateSize(48).numLayers(2)
                .numHeads(4).numKvHeads(2).maxPositionEmbeddings(128).rmsNormEps(1e-6).eosTokenIds(List.of(2L)).build();
    }

    static CausalLM tinyModel(long seed) {
        TorchTesting.seed("tiny model"); // loads torch
        return CausalLM.randomInit(tinyConfig(), seed);
    }

    /** Examples with random ids in [3, 64), EOS (2) last, weights drawn by {@code weight}. */
    static List<WeightedExample> randomExamples(Random rnd, int n, java.util.function.IntFunction<Float> weight) {
        List<WeightedExample> out = new ArrayList<>();
        while (out.size() < n) {
            long[] p = new long[2 + rnd.nextInt(5)], r = new long[2 + rnd.nextInt(7)];
            for (int i = 0; i < p.length; i++) p[i] = 3 + rnd.nextInt(61);
            for (int i = 0; i < r.length; i++) r[i] = 3 + rnd.nextInt(61);
            r[r.length - 1] = 2;
            float[] w = new float[r.length];
            for (int i = 0; i < w.length; i++) w[i] = weight.apply(i);
            WeightedExample e = new WeightedExample(p, r, w);
            if (nonzero(w) > 0) out.add(e);
        }
        return out;
    }

    /**
     * The reference loss, built from libtorch ops only (no kernel, no batching): each example run alone
     * through {@link CausalLM#logits}, log-softmax in float64, nll of every response token (predicted from
     * the previous position), weighted and reduced per {@code mode} over all examples. With
     * {@code dft} each weight is multiplied by exp(logp) detached. Differentiable when the model requires grad.
     */
    static Tensor referenceLoss(CausalLM model, List<WeightedExample> examples, Normalization mode, boolean dft) {
        Tensor total = null;
        long tokens = 0;
        for (WeightedExample e : examples) tokens += nonzero(e.weights());
        for (WeightedExample e : examples) {
            long[] p = e.prompt(), r = e.response();
            long[] seq = new long[p.length + r.length];
            System.arraycopy(p, 0, seq, 0, p.length);
            System.arraycopy(r, 0, seq, p.length, r.length);
            Tensor logits = model.logits(Tensor.create(seq).view(1, seq.length), null).to(ScalarType.Double);
            // positions p.length-1 .. seq.length-2 predict the response tokens
            Tensor rows = logits.select(0, 0).narrow(0, p.length - 1, r.length);
            Tensor logp = torch.log_softmax(rows, 1).gather(1, Tensor.create(r).view(r.length, 1)).view(r.length);
            float[] wf = e.weights();
            double[] wd = new double[wf.length];
            for (int i = 0; i < wd.length; i++) wd[i] = wf[i];
            Tensor w = Tensor.create(wd);
            if (dft) w = w.mul(torch.exp(logp.detach()));
            Tensor seqLoss = logp.neg().mul(w).sum();
            if (mode == Normalization.SEQUENCE_MEAN) seqLoss = seqLoss.div(new Scalar((double) nonzero(wf)));
            total = total == null ? seqLoss : total.add(seqLoss);
        }
        return switch (mode) {
            case TOKEN_MEAN -> total.div(new Scalar((double) tokens));
            case SEQUENCE_MEAN -> total.div(new Scalar((double) examples.size()));
            case SUM -> total;
        };
    }

    /** Tokens with a nonzero weight, over all examples (counted here, not by {@link WeightedExample#trainableTokens()}). */
    static long tokens(List<WeightedExample> es) {
        long n = 0;
        for (WeightedExample e : es) n += nonzero(e.weights());
        return n;
    }

    /** The number of nonzero weights: the reference's token-mean and sequence-mean denominators. */
    static int nonzero(float[] weights) {
        int n = 0;
        for (float w : weights) if (w != 0f) n++;
        return n;
    }
}
