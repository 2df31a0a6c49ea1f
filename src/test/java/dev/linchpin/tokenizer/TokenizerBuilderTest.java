package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The project's own tokenizer: written by {@link TokenizerBuilder}, loaded through the same
 * {@link Tokenizer#load} as real checkpoints. Expected ids are looked up in the written tokenizer.json read
 * independently, from the segmentation the design specifies.
 */
class TokenizerBuilderTest {
    /** Representative texts of the synthetic GSM8K-like task: questions, multi-step solutions, answers. */
    static final List<String> TASK_TEXTS = List.of(
            "Tom has 12 apples. He buys 3 more bags with 4 apples in each bag, then gives 5 apples to Mia. "
                    + "How many apples does Tom have now?",
            "Tom buys 3 * 4 = 12 apples.\nHe has 12 + 12 = 24 apples.\nAfter giving 5 away, he has 24 - 5 = 19 apples.\n#### 19",
            "A shop sells pens for $2 each and notebooks for $7 each. Sara buys 6 pens and 3 notebooks. "
                    + "She pays with a $50 bill. How much change does she get?",
            "Pens cost 6 * 2 = 12 dollars.\nNotebooks cost 3 * 7 = 21 dollars.\nTotal: 12 + 21 = 33 dollars.\n"
                    + "Change: 50 - 33 = 17 dollars.\nThe answer is \\boxed{17}.",
            "If 1,250 liters are split into 25 tanks (equal parts), each tank holds 1250 / 25 = 50 liters; 50% of that is 25.");

    @TempDir
    static Path dir;
    static Tokenizer tok;
    static JsonNode json;

    @BeforeAll
    static void build() throws Exception {
        new TokenizerBuilder().addWordsFrom(TASK_TEXTS).write(dir);
        json = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        tok = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    private static long id(String token) {
        JsonNode n = json.get("model").get("vocab").get(token);
        assertTrue(n != null, "token not in vocab: \"" + token + "\"");
        return n.asLong();
    }

    @Test
    void taskTextsRoundTrip() {
        for (String text : TASK_TEXTS) {
            assertEquals(text, tok.decode(tok.encode(text, true), false));
        }
    }

    @Test
    void randomTextsOverTheVocabularyRoundTrip() {
        // Words, digits, punctuation, symbols and whitespace in random order, including the awkward cases
        // (double spaces, space before a digit or symbol, newline runs).
        List<String> pieces = new ArrayList<>(List.of("Tom", "apples", "bag", "1", "0", "9", ".", ",", "$", "####",
                "\\boxed", "{", "}", "=", "+", "*", "(", ")", "%"));
        List<String> gaps = List.of("", " ", "  ", "\n", "\n\n", " \n", "\t");
        Random random = new Random(20240726);
        for (int n = 0; n < 200; n++) {
            StringBuilder b = new StringBuilder();
            int len = random.nextInt(30);
            for (int i = 0; i < len; i++) {
                String gap = gaps.get(random.nextInt(gaps.size()));
                String piece = pieces.get(random.nextInt(pieces.size()));
                // Two words with nothing between them are one (unknown) word, not two: keep them apart.
                if (gap.isEmpty() && b.length() > 0 && Character.isLetter(b.charAt(b.length() - 1))
                        && Character.isLetter(piece.charAt(0))) {
                    gap = " ";
                }
                b.append(gap).append(piece);
            }
            String text = b.toString();
            assertEquals(text, tok.decode(tok.encode(text, false), false), "seed 20240726, text " + n);
        }
    }

    @Test
    void encodingFollowsTheSpecifiedSegmentation() {
        // words carry their leading space; digits are single tokens; a space before a digit is its own token.
        String text = "Tom has 12 apples.\n#### 12\n\\boxed{7}";
        long[] expected = {id("Tom"), id(" has"), id(" "), id("1"), id("2"), id(" apples"), id("."), id("\n"),
                id("####"), id(" "), id("1"), id("2"), id("\n"), id("\\boxed"), id("{"), id("7"), id("}")};
        assertArrayEquals(expected, tok.encode(text, true));
    }

    @Test
    void everyDigitIsOneTokenSoNumbersGoDigitByDigit() {
        for (char d = '0'; d <= '9'; d++) {
            assertArrayEquals(new long[] {id(String.valueOf(d))}, tok.encode(String.valueOf(d), false));
        }
        assertArrayEquals(new long[] {id("9"), id("0"), id("0"), id("7"), id(","), id("5")}, tok.encode("9007,5", false));
    }

    @Test
    void unknownWordsBecomeOneUnkWithTheirSpace() {
        long unk = id(TokenizerBuilder.UNK);
        assertArrayEquals(new long[] {id("Tom"), unk, id(" "), id("3")}, tok.encode("Tom zebras 3", false));
        assertEquals("Tom<unk> 3", tok.decode(tok.encode("Tom zebras 3", false), false));
        assertEquals("Tom 3", tok.decode(tok.encode("Tom zebras 3", false), true));
    }

    @Test
    void specialTokensAndConfig() {
        assertEquals(Set.of(id("<|endoftext|>")), tok.eosTokenIds());
        assertEquals(0L, id("<|endoftext|>"));
        assertEquals(id("<|pad|>"), tok.padTokenId());
        assertNull(tok.bosTokenId());
        assertArrayEquals(new long[] {id("Tom"), 0L}, tok.encode("Tom<|endoftext|>", true));
        assertEquals(json.get("model").get("vocab").size(), tok.vocabSize());
        // Hundreds of tokens, not thousands: specials, whitespace, digits, punctuation, symbols, 2 per word.
        Set<String> words = new HashSet<>();
        TASK_TEXTS.forEach(t -> words.addAll(List.of(t.split("[^A-Za-z]+"))));
        words.remove("");
        assertEquals(3 + 4 + 10 + 32 + 2 + 2L * words.size(), tok.vocabSize());
    }

    @Test
    void chatTemplateEndsTheAnswerWithEos() {
        String rendered = tok.applyChatTemplate(List.of(ChatMessage.user("Tom has 3 apples."),
                ChatMessage.assistant("#### 3")), false, null);
        assertEquals("Tom has 3 apples.\n#### 3<|endoftext|>", rendered);
        assertEquals("Tom has 3 apples.\n", tok.applyChatTemplate(List.of(ChatMessage.user("Tom has 3 apples.")), true, null));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> tok.applyChatTemplate(List.of(new ChatMessage("tool", "x")), false, null));
        assertEquals("Unknown role: tool", e.getMessage());
    }

    @Test
    void filesFollowTheHuggingFaceSchema() throws Exception {
        ObjectMapper om = new ObjectMapper();
        assertEquals("1.0", json.get("version").asText());
        assertTrue(json.get("truncation").isNull() && json.get("padding").isNull() && json.get("normalizer").isNull()
                && json.get("post_processor").isNull());
        for (JsonNode t : json.get("added_tokens")) {
            assertEquals(Set.of("id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"), names(t));
            assertEquals(t.get("id").asLong(), id(t.get("content").asText()));
            assertTrue(t.get("special").asBoolean());
        }
        JsonNode pre = json.get("pre_tokenizer");
        assertEquals(Set.of("type", "pattern", "behavior", "invert"), names(pre));
        assertEquals("Split", pre.get("type").asText());
        assertEquals(Set.of("Regex"), names(pre.get("pattern")));
        assertEquals("Isolated", pre.get("behavior").asText());
        assertTrue(pre.get("invert").isBoolean() && !pre.get("invert").asBoolean());
        assertEquals(Map.of("type", "Fuse"), om.convertValue(json.get("decoder"), Map.class));
        JsonNode model = json.get("model");
        assertEquals(Set.of("type", "vocab", "unk_token"), names(model));
        assertEquals("WordLevel", model.get("type").asText());
        assertEquals("<unk>", model.get("unk_token").asText());
        // ids are exactly 0..n-1
        Set<Long> ids = new HashSet<>();
        model.get("vocab").forEach(n -> ids.add(n.asLong()));
        for (long i = 0; i < ids.size(); i++) {
            assertTrue(ids.contains(i), "missing id " + i);
        }

        JsonNode config = om.readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<|endoftext|>", config.get("eos_token").asText());
        assertEquals("<|pad|>", config.get("pad_token").asText());
        assertEquals("<unk>", config.get("unk_token").asText());
        assertTrue(config.get("bos_token").isNull());
        assertEquals("<|endoftext|>", config.get("added_tokens_decoder").get("0").get("content").asText());
        assertTrue(config.get("chat_template").isTextual());
        JsonNode map = om.readTree(dir.resolve("special_tokens_map.json").toFile());
        assertEquals(Set.of("eos_token", "pad_token", "unk_token"), names(map));
    }

    @Test
    void rejectsWordsAndSymbolsThePreTokenizerCouldNotProduce() {
        assertThrows(IllegalArgumentException.class, () -> new TokenizerBuilder().addWords(List.of("two words")));
        assertThrows(IllegalArgumentException.class, () -> new TokenizerBuilder().addWords(List.of("x1")));
        assertThrows(IllegalArgumentException.class, () -> new TokenizerBuilder().addSymbol("frac"));
        assertThrows(IllegalArgumentException.class, () -> new TokenizerBuilder().addSymbol("\\a b"));
        assertThrows(IllegalArgumentException.class, () -> new TokenizerBuilder().addWordsFrom(List.of("bell\u0007")));
    }

    private static Set<String> names(JsonNode n) {
        Set<String> s = new HashSet<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            s.add(it.next());
        }
        return s;
    }

    @Test
    void cleanUpOfTokenizationSpacesAppliesToNonBpeModelsAsInTransformers5(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("tok");
        new TokenizerBuilder().addWords(List.of("Tom", "has")).write(dir);
        String text = "Tom has 5 , 6 .";
        try (Tokenizer plain = Tokenizer.load(dir)) {
            assertEquals(text, plain.decode(plain.encode(text, false), false), "no clean-up unless the config asks");
        }
        Path config = dir.resolve("tokenizer_config.json");
        com.fasterxml.jackson.databind.node.ObjectNode c = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper().readTree(config.toFile());
        c.put("clean_up_tokenization_spaces", true);
        java.nio.file.Files.writeString(config, c.toString());
        // A WordLevel model: transformers applies the clean-up (it skips it only for BPE, see RealTokenizerParityTest).
        try (Tokenizer cleaned = Tokenizer.load(dir)) {
            assertEquals("Tom has 5, 6.", cleaned.decode(cleaned.encode(text, false), false));
        }
    }
}
