package dev.linchpin.ecosystem;

import dev.linchpin.model.CausalLM;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ModelFamily;
import dev.linchpin.model.RopeParameters;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * What the ecosystem fixtures under tests/fixtures/ecosystem/ are made of, shared by the writer of their
 * Linchpin side ({@link EcosystemFixtureWriter}) and the tests that read them: the model directories Linchpin
 * saves (one per family at its real layout with small dimensions, and the embedded default fine-tuned by
 * {@code linchpin train}), and the LoRA adapter Linchpin trains on the latter.
 */
final class EcosystemFixtures {
    static final Path DIR = Path.of("tests", "fixtures", "ecosystem");
    /** Model directories written by Linchpin, read by transformers (make_ecosystem_fixtures.py). */
    static final List<String> FAMILIES = List.of("llama", "qwen2", "qwen3", "olmo2");
    static final String DEFAULT_SFT = "default-sft";
    /** The adapter {@code linchpin train --objective sftkey --lora-rank ...} wrote on default-sft (PEFT layout). */
    static final String LINCHPIN_LORA = "default-sft-lora-linchpin";
    /** An adapter PEFT made on default-sft (save_pretrained), for Linchpin to read. */
    static final String PEFT_LORA = "default-sft-lora-peft";
    /** Outputs of the Python libraries (make_ecosystem_fixtures.py). */
    static final Path OUTPUTS = DIR.resolve("outputs");

    /** Texts whose words make the family models' vocabulary (the project's word-level tokenizer). */
    static final List<String> TEXTS = List.of(
            "Tom has 12 apples. He buys 3 more bags with 4 apples in each bag. How many apples does Tom have now?",
            "Mia reads 15 pages a day for a week, then half as many. What is the total number of pages?",
            "The answer is 42. So the total is 7 plus 8 minus 2 times 3 divided by 5.",
            "You are a careful math tutor. Think step by step and give the final answer after ####.");

    /** The family models' greedy-generation questions (their words are in the vocabulary). */
    static final List<String> FAMILY_QUESTIONS = List.of(
            "Tom has 12 apples. How many apples does Tom have now?",
            "Mia reads 15 pages a day for a week. What is the total number of pages?",
            "What is 7 plus 8 minus 2?");

    private EcosystemFixtures() {}

    /** The family's configuration: its real layout (GQA, biases, QK-norm, head_dim, tying, RoPE) at small width. */
    static ModelConfig config(String family, int vocab) {
        ModelConfig.Builder b = switch (family) {
            // Llama-3.1: GQA, untied head, Llama-3 RoPE scaling (small original context so all three bands occur).
            case "llama" -> ModelConfig.builder(ModelFamily.LLAMA).numHeads(4).numKvHeads(2).tieWordEmbeddings(false)
                    .rope(RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 64)).rmsNormEps(1e-5);
            // Qwen2.5: GQA, q/k/v biases, tied head (as the small Qwen2.5 checkpoints).
            case "qwen2" -> ModelConfig.builder(ModelFamily.QWEN2).numHeads(4).numKvHeads(2).tieWordEmbeddings(true)
                    .rope(RopeParameters.standard(1000000.0)).rmsNormEps(1e-6);
            // Qwen3: GQA, per-head QK-norm, head_dim larger than hidden/heads, tied head.
            case "qwen3" -> ModelConfig.builder(ModelFamily.QWEN3).numHeads(4).numKvHeads(2).headDim(16).tieWordEmbeddings(true)
                    .rope(RopeParameters.standard(1000000.0)).rmsNormEps(1e-6);
            // OLMo-2: MHA, post-norm, full-width QK-norm, untied head.
            case "olmo2" -> ModelConfig.builder(ModelFamily.OLMO2).numHeads(4).numKvHeads(4).tieWordEmbeddings(false)
                    .rope(RopeParameters.standard(500000.0)).rmsNormEps(1e-6);
            default -> throw new IllegalArgumentException(family);
        };
        return b.vocabSize(vocab).hiddenSize(32).intermediateSize(64).numLayers(2).maxPositionEmbeddings(512)
                .eosTokenIds(List.of(0L)).build();
    }

    /**
     * Seeded weights far from the default init, so every parameter's role shows in the logits and greedy
     * choices are far from ties: norm weights 1 ± 0.2, biases ± 0.1, embeddings N(0, 1), matrices N(0, 0.3²).
     */
    static CausalLM model(ModelConfig config, long seed) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            Generator gen = torch.createCPUGenerator(seed);
            for (Map.Entry<String, long[]> e : CausalLM.parameterShapes(config).entrySet()) {
                String n = e.getKey();
                double mean = n.endsWith("norm.weight") ? 1.0 : 0.0;
                double std = n.endsWith("norm.weight") ? 0.2 : n.endsWith(".bias") ? 0.1 : n.contains("embed") ? 1.0 : 0.3;
                Tensor t = torch.empty(e.getValue(), new TensorOptions(ScalarType.Float), new MemoryFormatOptional())
                        .normal_(mean, std, new GeneratorOptional(gen));
                t.retainReference();
                w.put(n, t);
            }
        }
        return CausalLM.fromParameters(config, w);
    }
}
