package dev.linchpin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.Generation;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.testing.TorchTesting;
import dev.linchpin.tokenizer.ChatMessage;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.tokenizer.TokenizerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's models-and-tokenizers snippet, verbatim in {@link #readmeSnippet}, compiled and run. */
class ReadmeExampleTest {

    static void readmeSnippet(Path dir, Path outDir) throws Exception {
        try (Tokenizer tok = Tokenizer.load(dir)) {
            CausalLM model = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
            String prompt = tok.applyChatTemplate(List.of(ChatMessage.user("What is 7 times 6?")), true, Map.of());
            long[] eos = tok.eosTokenIds().stream().mapToLong(Long::longValue).toArray();
            long[] answer = Generation.greedy(model, tok.encode(prompt, false), 64, eos);   // the new tokens
            System.out.println(tok.decode(answer, true));
            model.save(outDir, dir);   // config.json + model.safetensors + tokenizer files: transformers/vLLM load it
        }
    }

    @Test
    void snippetRunsOnAProjectBuiltModelDirectory(@TempDir Path tmp) throws Exception {
        TorchTesting.seed("readme example");
        Path dir = tmp.resolve("model"), out = tmp.resolve("saved");
        new TokenizerBuilder().addWordsFrom(List.of("What is 7 times 6 ?", "It is 42 .")).write(dir);
        long vocab;
        try (Tokenizer tok = Tokenizer.load(dir)) {
            vocab = tok.vocabSize();
        }
        ModelConfig config = ModelConfig.builder(ModelFamily.LLAMA).vocabSize((int) vocab).hiddenSize(32).intermediateSize(64)
                .numLayers(1).numHeads(4).numKvHeads(2).headDim(8).maxPositionEmbeddings(128).eosTokenIds(List.of(0L))
                .build();
        try (PointerScope scope = new PointerScope()) {
            CausalLM.randomInit(config, 7).save(dir, null);
            readmeSnippet(dir, out);
            // The saved copy is a loadable HF directory with the tokenizer beside the weights.
            assertTrue(Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("model.safetensors")));
            assertTrue(Files.exists(out.resolve("tokenizer.json")));
            CausalLM a = CausalLM.load(dir, new Device("cpu"), ScalarType.Float);
            CausalLM b = CausalLM.load(out, new Device("cpu"), ScalarType.Float);
            long[] prompt = {3, 4, 5};
            assertArrayEquals(Generation.greedy(a, prompt, 8, new long[] {0}), Generation.greedy(b, prompt, 8, new long[] {0}));
        }
    }
}
