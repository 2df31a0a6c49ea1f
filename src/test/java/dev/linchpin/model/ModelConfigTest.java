package dev.linchpin.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json parsing against hand-written files in the layouts transformers writes. */
class ModelConfigTest {
    @TempDir Path dir;

    private ModelConfig parse(String json) throws IOException {
        Path p = dir.resolve("config.json");
        Files.writeString(p, json);
        return ModelConfig.fromJson(p);
    }

    @Test
    void llama31ConfigWithRopeScaling() throws IOException {
        // Shape of meta-llama/Llama-3.1-8B-Instruct's config.json (values as published).
        ModelConfig c = parse("{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,\"bos_token_id\":128000,"
                + "\"eos_token_id\":[128001,128008,128009],\"hidden_act\":\"silu\",\"hidden_size\":4096,\"initializer_range\":0.02,"
                + "\"intermediate_size\":14336,\"max_position_embeddings\":131072,\"mlp_bias\":false,\"model_type\":\"llama\","
                + "\"num_attention_heads\":32,\"num_hidden_layers\":32,\"num_key_value_heads\":8,\"pretraining_tp\":1,"
                + "\"rms_norm_eps\":1e-05,\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                + "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},\"rope_theta\":500000.0,"
                + "\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\",\"use_cache\":true,\"vocab_size\":128256}");
        assertEquals(ModelFamily.LLAMA, c.family());
        assertEquals(128, c.headDim());
        assertEquals(8, c.numKvHeads());
        assertEquals(List.of(128001L, 128008L, 128009L), c.eosTokenIds());
        assertEquals(128000L, c.bosTokenId());
        assertEquals(RopeParameters.llama3(500000.0, 8.0, 1.0, 4.0, 8192), c.rope());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals("bfloat16", c.torchDtype());
        assertFalse(c.qkvBias());
        // toJson keeps unknown keys (use_cache) and round-trips every field.
        ModelConfig again = ModelConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(c.toJson()));
        assertEquals(c.toString(), again.toString());
        assertEquals(c.eosTokenIds(), again.eosTokenIds());
        assertTrue(c.toJson().contains("\"use_cache\" : true"));
    }

    @Test
    void qwen2Qwen3AndOlmo2Specifics() throws IOException {
        ModelConfig q2 = parse("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":896,\"intermediate_size\":4864,"
                + "\"num_attention_heads\":14,\"num_hidden_layers\":24,\"num_key_value_heads\":2,\"vocab_size\":151936,"
                + "\"rope_theta\":1000000.0,\"rms_norm_eps\":1e-06,\"tie_word_embeddings\":true,\"use_sliding_window\":false,"
                + "\"sliding_window\":32768,\"eos_token_id\":151643}");
        assertTrue(q2.qkvBias());
        assertFalse(q2.outputBias());
        assertTrue(q2.tieWordEmbeddings());
        assertEquals(64, q2.headDim());

        ModelConfig q3 = parse("{\"architectures\":[\"Qwen3ForCausalLM\"],\"hidden_size\":1024,\"intermediate_size\":3072,"
                + "\"num_attention_heads\":16,\"num_hidden_layers\":28,\"num_key_value_heads\":8,\"vocab_size\":151936,"
                + "\"head_dim\":128,\"attention_bias\":false}");
        assertEquals(128, q3.headDim());
        assertFalse(q3.qkvBias());

        // transformers v5 layout: rope_parameters instead of rope_theta; OLMo-2 default eps 1e-5.
        ModelConfig o2 = parse("{\"architectures\":[\"Olmo2ForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":96,"
                + "\"num_attention_heads\":4,\"num_hidden_layers\":2,\"vocab_size\":100,"
                + "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":500000.0}}");
        assertEquals(500000.0, o2.rope().theta());
        assertEquals(1e-5, o2.rmsNormEps());
        assertEquals(4, o2.numKvHeads());
    }

    @Test
    void unsupportedAndMalformedConfigsNameTheProblem() {
        IOException e = assertThrows(IOException.class, () -> parse("{\"architectures\":[\"MistralForCausalLM\"],\"vocab_size\":1}"));
        assertTrue(e.getMessage().contains("MistralForCausalLM") && e.getMessage().contains("LlamaForCausalLM, Qwen2ForCausalLM, "
                + "Qwen3ForCausalLM, Olmo2ForCausalLM") && e.getMessage().contains("config.json"), e.getMessage());
        String sizes = "\"hidden_size\":64,\"intermediate_size\":96,\"num_attention_heads\":4,\"num_hidden_layers\":2,\"vocab_size\":100";
        String[][] bad = {
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes.replace("\"vocab_size\":100", "\"vocab_size\":-1") + "}", "vocab_size"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes.replace(",\"vocab_size\":100", "") + "}", "vocab_size"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes + ",\"num_key_value_heads\":3}", "num_key_value_heads"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes + ",\"hidden_act\":\"gelu\"}", "hidden_act"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes + ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}", "yarn"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes + ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}}", "low_freq_factor"},
            {"{\"architectures\":[\"Qwen2ForCausalLM\"]," + sizes + ",\"use_sliding_window\":true}", "sliding"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes + ",\"hidden_size\":\"64\"}", "hidden_size"},
            {"{\"architectures\":\"LlamaForCausalLM\"," + sizes + "}", "architectures"},
            {"{\"model_type\":\"gpt2\"," + sizes + "}", "model_type"},
            {"[1,2]", "object"},
            {"{\"architectures\":[\"LlamaForCausalLM\"]," + sizes, "JSON"},
        };
        for (String[] b : bad) {
            IOException ex = assertThrows(IOException.class, () -> parse(b[0]), b[0]);
            assertTrue(ex.getMessage().contains(b[1]) && ex.getMessage().contains("config.json"), b[1] + " in: " + ex.getMessage());
        }
    }
}
