package dev.linchpin.tokenizer;

import dev.linchpin.io.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Adds tokens to a tokenizer the way transformers' {@code tokenizer.add_tokens([...])} + {@code save_pretrained}
 * does for a fast tokenizer: each token becomes an entry of tokenizer.json's {@code added_tokens}, which the
 * tokenizers library matches in the raw text before pre-tokenization, so the token always encodes to one id.
 *
 * <p>Ids follow the Rust {@code AddedVocabulary}: a token already in {@code added_tokens} is left alone; a
 * token in the model vocabulary keeps its id (and is registered as added, so it is matched whole); any
 * other token gets the next id (the current {@link Tokenizer#vocabSize()}, then +1, ...). The entries are
 * {@code special: false} (decode keeps them even with skip_special_tokens) and {@code normalized: false}
 * (matched verbatim, whatever the normalizer). The model must then be resized to the new vocabulary size
 * ({@code CausalLM.resizeTokenEmbeddings}).
 */
public final class AddedTokens {
    /** Files copied unchanged from the source directory when present (the rest of a Hugging Face tokenizer). */
    static final List<String> COPIED = List.of("special_tokens_map.json", "generation_config.json", "tokenizer.model",
            "vocab.json", "merges.txt", "chat_template.jinja");

    private AddedTokens() {}

    /**
     * The outcome of {@link #extend}.
     *
     * @param ids       the id of every requested token, in request order
     * @param newTokens the tokens that received a new id (absent from the source vocabulary)
     * @param vocabSize the vocabulary size of the written tokenizer (what the model must be resized to)
     */
    public record Result(Map<String, Long> ids, List<String> newTokens, long vocabSize) {
        public Result {
            ids = Collections.unmodifiableMap(new LinkedHashMap<>(ids));
            newTokens = List.copyOf(newTokens);
        }
    }

    /**
     * Writes into {@code outDir} a copy of the tokenizer files of {@code srcDir} with {@code tokens} added.
     * {@code outDir} may not be {@code srcDir}. Updates tokenizer.json's {@code added_tokens}, and
     * tokenizer_config.json's {@code added_tokens_decoder} and {@code added_tokens.json} when present
     * (transformers reads those for the slow path and for {@code len(tokenizer)}).
     *
     * @throws TokenizerFileException naming the file if a source file is missing or malformed
     * @throws IllegalArgumentException if a token is empty, or outDir is srcDir
     */
    public static Result extend(Path srcDir, List<String> tokens, Path outDir) throws IOException {
        Objects.requireNonNull(srcDir, "srcDir");
        Objects.requireNonNull(outDir, "outDir");
        for (String t : tokens) if (t == null || t.isEmpty()) throw new IllegalArgumentException("added tokens must be non-empty strings, got " + tokens);
        Files.createDirectories(outDir);
        if (Files.isSameFile(srcDir, outDir)) throw new IllegalArgumentException(outDir + ": extend writes a copy; outDir must differ from srcDir");

        Path tokFile = srcDir.resolve(Tokenizer.TOKENIZER_JSON);
        ObjectNode root = (ObjectNode) JsonFiles.readObject(tokFile);
        Vocabulary vocab = Vocabulary.fromTokenizerJson(root, tokFile);
        ArrayNode added = root.has("added_tokens") && root.get("added_tokens").isArray()
                ? (ArrayNode) root.get("added_tokens") : root.putArray("added_tokens");
        java.util.Set<String> alreadyAdded = new LinkedHashSet<>();
        for (JsonNode t : added) alreadyAdded.add(t.get("content").asText());

        Map<String, Long> ids = new LinkedHashMap<>();
        List<String> fresh = new ArrayList<>();
        List<ObjectNode> entries = new ArrayList<>();
        long next = vocab.size();
        for (String token : new LinkedHashSet<>(tokens)) {
            Long id = vocab.idOf(token);
            if (id != null && alreadyAdded.contains(token)) {
                ids.put(token, id);
                continue;
            }
            if (id == null) {
                id = next++;
                fresh.add(token);
            }
            ids.put(token, id);
            ObjectNode e = JsonFiles.MAPPER.createObjectNode();
            e.put("id", id);
            e.put("content", token);
            e.put("single_word", false);
            e.put("lstrip", false);
            e.put("rstrip", false);
            e.put("normalized", false);
            e.put("special", false);
            added.add(e);
            entries.add(e);
        }
        write(outDir.resolve(Tokenizer.TOKENIZER_JSON), root);

        Path configFile = srcDir.resolve(TokenizerSettings.TOKENIZER_CONFIG);
        if (Files.isRegularFile(configFile)) {
            ObjectNode config = (ObjectNode) JsonFiles.readObject(configFile);
            if (config.has("added_tokens_decoder") && config.get("added_tokens_decoder").isObject()) {
                ObjectNode decoder = (ObjectNode) config.get("added_tokens_decoder");
                for (ObjectNode e : entries) {
                    ObjectNode copy = e.deepCopy();
                    copy.remove("id");
                    decoder.set(String.valueOf(e.get("id").asLong()), copy);
                }
            }
            write(outDir.resolve(TokenizerSettings.TOKENIZER_CONFIG), config);
        }
        Path addedJson = srcDir.resolve("added_tokens.json");
        if (Files.isRegularFile(addedJson)) {
            ObjectNode map = (ObjectNode) JsonFiles.readObject(addedJson);
            for (ObjectNode e : entries) map.put(e.get("content").asText(), e.get("id").asLong());
            write(outDir.resolve("added_tokens.json"), map);
        }
        for (String name : COPIED) {
            Path src = srcDir.resolve(name);
            if (Files.isRegularFile(src)) Files.copy(src, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        return new Result(ids, fresh, next);
    }

    /** Writes pretty JSON through a temporary file and a rename, so a crash never leaves half a tokenizer. */
    private static void write(Path file, JsonNode json) throws IOException {
        AtomicFiles.writeString(file, JsonFiles.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
    }
}
