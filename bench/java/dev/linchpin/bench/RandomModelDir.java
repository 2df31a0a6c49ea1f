package dev.linchpin.bench;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a randomly initialised Llama in Hugging Face layout with another model's tokenizer (its
 * vocabulary, pad and EOS ids), so a training benchmark can run a larger model on that model's data:
 * {@code RandomModelDir TOKENIZER_DIR OUT_DIR HIDDEN LAYERS INTERMEDIATE}.
 */
public final class RandomModelDir {
    private RandomModelDir() {}

    public static void main(String[] args) throws Exception {
        Path tokenizerDir = Path.of(args[0]), out = Path.of(args[1]);
        int hidden = Integer.parseInt(args[2]), layers = Integer.parseInt(args[3]), intermediate = Integer.parseInt(args[4]);
        ModelConfig base = ModelConfig.fromJson(tokenizerDir.resolve("config.json"));
        ModelConfig config = ModelConfig.builder(ModelFamily.LLAMA).vocabSize(base.vocabSize()).hiddenSize(hidden).intermediateSize(intermediate)
                .numLayers(layers).numHeads(hidden / 64).numKvHeads(hidden / 64).headDim(64).maxPositionEmbeddings(base.maxPositionEmbeddings())
                .rmsNormEps(1e-6).tieWordEmbeddings(true).padTokenId(base.padTokenId()).eosTokenIds(base.eosTokenIds()).build();
        CausalLM.randomInit(config, 1).save(out, tokenizerDir);
        System.out.println("wrote " + out + " (" + config.hiddenSize() + " wide, " + layers + " layers)");
    }
}
