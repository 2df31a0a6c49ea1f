package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad tokenizer directories fail with a {@link TokenizerFileException} naming the file, never a JVM crash. */
class TokenizerLoadErrorsTest {
    @TempDir
    Path dir;

    @BeforeEach
    void writeValidTokenizer() throws Exception {
        new TokenizerBuilder().addWords(List.of("apple", "Tom")).write(dir);
    }

    private TokenizerFileException failsOn(String fileName) {
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> Tokenizer.load(dir).close());
        assertEquals(dir.resolve(fileName), e.file());
        assertTrue(e.getMessage().contains(fileName), e.getMessage());
        return e;
    }

    @Test
    void missingFiles() throws Exception {
        Files.delete(dir.resolve("tokenizer_config.json"));
        failsOn("tokenizer_config.json");
        Files.delete(dir.resolve("tokenizer.json"));
        failsOn("tokenizer.json");
    }

    @Test
    void malformedJsonNamesFileAndLine() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"), "{\n  \"model\": {\n    \"vocab\": [1, 2\n");
        TokenizerFileException e = failsOn("tokenizer.json");
        assertTrue(e.getMessage().contains("line"), e.getMessage());
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": }");
        new TokenizerBuilder().write(dir);
        failsOn("generation_config.json");
    }

    @Test
    void truncatedTokenizerJson() throws Exception {
        String full = Files.readString(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), full.substring(0, full.length() / 2));
        failsOn("tokenizer.json");
    }

    @Test
    void duplicateKeysAndDuplicateIds() throws Exception {
        Files.writeString(dir.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"a\": 1}, \"unk_token\": \"a\"}}");
        failsOn("tokenizer.json");
        Files.writeString(dir.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": 0, \"b\": 0}, \"unk_token\": \"a\"}}");
        assertTrue(failsOn("tokenizer.json").getMessage().contains("id 0"));
        Files.writeString(dir.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"a\": -3}, \"unk_token\": \"a\"}}");
        failsOn("tokenizer.json");
    }

    @Test
    void validJsonThatTheTokenizersLibraryRejects() throws Exception {
        String good = Files.readString(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), good.replace("\"WordLevel\"", "\"NoSuchModel\""));
        assertTrue(failsOn("tokenizer.json").getMessage().contains("tokenizers library"));
    }

    @Test
    void specialTokensMustExistAndEosIdsMustBeInRange() throws Exception {
        String config = Files.readString(dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), config.replace("\"<|pad|>\"", "\"<|nope|>\""));
        assertTrue(failsOn("tokenizer_config.json").getMessage().contains("pad_token"));
        new TokenizerBuilder().addWords(List.of("apple", "Tom")).write(dir);
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [0, 100000]}");
        assertTrue(failsOn("generation_config.json").getMessage().contains("100000"));
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": \"0\"}");
        failsOn("generation_config.json");
    }

    @Test
    void generationConfigEosIsUnitedWithTokenizerConfigEos() throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": 1}");
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertEquals(Set.of(0L, 1L), t.eosTokenIds());
        }
    }

    @Test
    void chatTemplateJinjaFileTakesPrecedence() throws Exception {
        Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages[0].content }}!\n");
        try (Tokenizer t = Tokenizer.load(dir)) {
            assertEquals("hi!", t.applyChatTemplate(List.of(ChatMessage.user("hi")), true, null));
        }
    }

    @Test
    void badIdsAndUseAfterClose() throws Exception {
        Tokenizer t = Tokenizer.load(dir);
        long size = t.vocabSize();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.decode(new long[] {0, size}, false));
        assertTrue(e.getMessage().contains("ids[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decodeToken(-1));
        t.close();
        assertThrows(IllegalStateException.class, () -> t.encode("Tom", false));
        t.close(); // idempotent
    }
}
