package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.progress.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding the SFTKey tags as tokens: each tag encodes to one id, numbered after the existing vocabulary, and
 * tagged text round-trips; the expected ids are derived from the source tokenizer.json read independently.
 */
class AddedTokensTest {
    static final List<String> TAGS = List.of("<Thinking>", "</Thinking>", "<Answer>", "</Answer>");
    /** Tagged text whose words are in the embedded default's vocabulary. */
    static final String TAGGED_DEFAULT = "<Thinking>She buys 3 * 4 = 12 apples.\nThen 12 + 7 = 19.</Thinking><Answer>19</Answer>";
    /** Tagged text whose words are in the vocabulary built from {@link TokenizerBuilderTest#TASK_TEXTS}. */
    static final String TAGGED_BUILT = "<Thinking>Tom buys 3 * 4 = 12 apples.\nHe has 12 + 7 = 19 apples.</Thinking><Answer>19</Answer>";

    @TempDir
    Path dir;

    /** The vocabulary size read straight from tokenizer.json: one past the largest id of model.vocab and added_tokens. */
    static long vocabSizeOf(Path tokDir) throws Exception {
        JsonNode root = new ObjectMapper().readTree(tokDir.resolve("tokenizer.json").toFile());
        long max = -1;
        for (JsonNode id : root.get("model").get("vocab")) max = Math.max(max, id.asLong());
        for (JsonNode t : root.get("added_tokens")) max = Math.max(max, t.get("id").asLong());
        return max + 1;
    }

    void checkExtension(Path src, String tagged) throws Exception {
        long before = vocabSizeOf(src);
        try (Tokenizer old = Tokenizer.load(src)) {
            // The premise: without the tags the tokenizer cannot reproduce tagged text (it splits or loses them).
            assertNotEquals(tagged, old.decode(old.encode(tagged, false), false));
        }
        Path out = dir.resolve("extended-" + src.getFileName());
        AddedTokens.Result r = AddedTokens.extend(src, TAGS, out);
        assertEquals(Map.of("<Thinking>", before, "</Thinking>", before + 1, "<Answer>", before + 2, "</Answer>", before + 3), r.ids());
        assertEquals(TAGS, r.newTokens());
        assertEquals(before + 4, r.vocabSize());
        assertEquals(before + 4, vocabSizeOf(out));
        try (Tokenizer tok = Tokenizer.load(out)) {
            assertEquals(before + 4, tok.vocabSize());
            for (int i = 0; i < TAGS.size(); i++) {
                assertArrayEquals(new long[] {before + i}, tok.encode(TAGS.get(i), false), TAGS.get(i));
                assertEquals(TAGS.get(i), tok.idToToken(before + i));
            }
            long[] ids = tok.encode(tagged, false);
            assertEquals(tagged, tok.decode(ids, false));
            assertEquals(tagged, tok.decode(ids, true), "the tags are not special: skip_special_tokens keeps them");
            // The text between the tags encodes as before: the tags only cut it.
            try (Tokenizer old = Tokenizer.load(src)) {
                String inner = "19";
                long[] expected = old.encode(inner, false);
                long[] answer = tok.encode("<Answer>" + inner + "</Answer>", false);
                assertEquals(expected.length + 2, answer.length);
                assertEquals(before + 2, answer[0]);
                assertEquals(before + 3, answer[answer.length - 1]);
                for (int i = 0; i < expected.length; i++) assertEquals(expected[i], answer[i + 1]);
                assertEquals(old.eosTokenIds(), tok.eosTokenIds());
            }
        }
        // Extending again is a no-op on ids: present tokens keep theirs, nothing new is numbered.
        AddedTokens.Result again = AddedTokens.extend(out, TAGS, dir.resolve("again-" + src.getFileName()));
        assertEquals(r.ids(), again.ids());
        assertEquals(List.of(), again.newTokens());
        assertEquals(before + 4, again.vocabSize());
        // transformers reads added_tokens_decoder of tokenizer_config.json: the new ids must be there, not special.
        JsonNode decoder = new ObjectMapper().readTree(out.resolve("tokenizer_config.json").toFile()).get("added_tokens_decoder");
        assertEquals("</Answer>", decoder.get(String.valueOf(before + 3)).get("content").asText());
        assertEquals(false, decoder.get(String.valueOf(before + 3)).get("special").asBoolean());
    }

    @Test
    void tagsBecomeSingleTokensOfTheEmbeddedDefault() throws Exception {
        checkExtension(EmbeddedDefault.ensure(DefaultConfig.standard(), ProgressListener.silent()), TAGGED_DEFAULT);
    }

    @Test
    void tagsBecomeSingleTokensOfABuiltTokenizer() throws Exception {
        Path src = dir.resolve("built");
        new TokenizerBuilder().addWordsFrom(TokenizerBuilderTest.TASK_TEXTS).write(src);
        checkExtension(src, TAGGED_BUILT);
    }

    @Test
    void aTokenAlreadyInTheVocabularyKeepsItsId() throws Exception {
        Path src = dir.resolve("built");
        new TokenizerBuilder().addWordsFrom(TokenizerBuilderTest.TASK_TEXTS).write(src);
        long apples = new ObjectMapper().readTree(src.resolve("tokenizer.json").toFile()).get("model").get("vocab").get(" apples").asLong();
        long before = vocabSizeOf(src);
        AddedTokens.Result r = AddedTokens.extend(src, List.of(" apples", "<Answer>"), dir.resolve("out"));
        assertEquals(Map.of(" apples", apples, "<Answer>", before), r.ids());
        assertEquals(List.of("<Answer>"), r.newTokens());
        try (Tokenizer tok = Tokenizer.load(dir.resolve("out"))) {
            assertEquals(before + 1, tok.vocabSize());
            assertArrayEquals(new long[] {apples}, tok.encode(" apples", false));
        }
    }

    @Test
    void badInputsAreNamed() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> AddedTokens.extend(empty, TAGS, dir.resolve("o")));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(broken.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0}}, \"added_tokens\": [");
        e = assertThrows(TokenizerFileException.class, () -> AddedTokens.extend(broken, TAGS, dir.resolve("o2")));
        assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AddedTokens.extend(broken, List.of(""), dir.resolve("o3")));
    }
}
