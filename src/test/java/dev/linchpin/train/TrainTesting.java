package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.testing.TorchTesting;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A tiny Llama and toy examples for trainer tests. */
final class TrainTesting {
    static final long PAD = 1, EOS = 0;

    static {
        TorchTesting.seed("TrainTesting"); // loads libtorch and sets threads
    }

    private TrainTesting() {}

    static ModelConfig tinyConfig() {
        return ModelConfig.builder(ModelFamily.LLAMA).vocabSize(40).hiddenSize(32).intermediateSize(64).numLayers(2)
                .numHeads(4).numKvHeads(2).maxPositionEmbeddings(64).tieWordEmbeddings(true)
                .padTokenId(PAD).eosTokenIds(List.of(EOS)).build();
    }

    static CausalLM tinyModel(long seed) {
        return CausalLM.randomInit(tinyConfig(), seed);
    }

    /**
     * Learnable toy data: the prompt is a few random tokens in [10, 20), the response is the same
     * tokens shifted by +10 then EOS (a position-wise map the model can learn in a few dozen steps),
     * every response token weighted 1 (plain SFT, as the embedded default trains).
     */
    static List<WeightedExample> toyExamples(int count, long seed) {
        Random rnd = new Random(seed);
        List<WeightedExample> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = 2 + rnd.nextInt(5);
            long[] prompt = new long[n + 1], response = new long[n + 1];
            for (int k = 0; k < n; k++) {
                prompt[k] = 10 + rnd.nextInt(10);
                response[k] = prompt[k] + 10;
            }
            prompt[n] = 3;       // a separator token
            response[n] = EOS;
            float[] weights = new float[response.length];
            java.util.Arrays.fill(weights, 1f);
            out.add(new WeightedExample(prompt, response, weights));
        }
        return out;
    }

    /** Plain SFT of {@code model} in place on {@code data}, one stage, nothing written (as the embedded default trains). */
    static TrainResult sft(CausalLM model, List<WeightedExample> data, FineTuneConfig config) throws java.io.IOException {
        return FineTuner.train(new FullFineTune(model), List.of(new TrainingStage("pretrain", data, config.steps())), PAD, config,
                TrainingOutput.inMemory(), null);
    }
}
