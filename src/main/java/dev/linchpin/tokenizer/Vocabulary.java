package dev.linchpin.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The token strings and ids of a {@code tokenizer.json}: the model's vocabulary plus its
 * {@code added_tokens}. Read in Java (DJL's binding exposes no vocabulary) and checked, so that
 * {@link Tokenizer#tokenToId}, {@link Tokenizer#idToToken} and special-token lookups never need the
 * native library, and so that a hostile file is rejected with its name before it reaches Rust.
 *
 * <p>Token strings are the model's own spelling: for byte-level BPE (GPT-2, Llama 3, Qwen) a leading
 * space is {@code "Ġ"}, exactly what transformers' {@code convert_ids_to_tokens} returns.
 */
final class Vocabulary {
    private final Map<String, Long> idsByToken;
    private final Map<Long, String> tokensById;
    private final long size;

    private Vocabulary(Map<String, Long> idsByToken, Map<Long, String> tokensById) {
        this.idsByToken = idsByToken;
        this.tokensById = tokensById;
        long max = -1;
        for (long id : tokensById.keySet()) {
            max = Math.max(max, id);
        }
        this.size = max + 1;
    }

    /** Reads the vocabulary of a parsed {@code tokenizer.json} ({@code file} names it in errors). */
    static Vocabulary fromTokenizerJson(JsonNode root, Path file) throws TokenizerFileException {
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) {
            throw new TokenizerFileException(file, "no \"model\" object");
        }
        Map<String, Long> byToken = new HashMap<>();
        Map<Long, String> byId = new HashMap<>();
        JsonNode vocab = model.get("vocab");
        if (vocab == null) {
            throw new TokenizerFileException(file, "model has no \"vocab\"");
        }
        if (vocab.isObject()) { // BPE, WordLevel, WordPiece: {"token": id}
            Iterator<Map.Entry<String, JsonNode>> fields = vocab.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> e = fields.next();
                put(byToken, byId, e.getKey(), id(e.getValue(), file, "model.vocab[\"" + e.getKey() + "\"]"), file);
            }
        } else if (vocab.isArray()) { // Unigram: [["piece", score], ...], the id is the position
            for (int i = 0; i < vocab.size(); i++) {
                JsonNode entry = vocab.get(i);
                if (!entry.isArray() || entry.size() < 1 || !entry.get(0).isTextual()) {
                    throw new TokenizerFileException(file, "model.vocab[" + i + "] is not [piece, score]");
                }
                put(byToken, byId, entry.get(0).asText(), i, file);
            }
        } else {
            throw new TokenizerFileException(file, "model.vocab is neither an object nor an array");
        }

        JsonNode added = root.get("added_tokens");
        if (added != null && !added.isNull()) {
            if (!added.isArray()) {
                throw new TokenizerFileException(file, "added_tokens is not an array");
            }
            for (int i = 0; i < added.size(); i++) {
                JsonNode t = added.get(i);
                JsonNode content = t.get("content");
                if (content == null || !content.isTextual()) {
                    throw new TokenizerFileException(file, "added_tokens[" + i + "] has no string \"content\"");
                }
                long id = id(t.get("id"), file, "added_tokens[" + i + "].id");
                String token = content.asText();
                String previous = byId.get(id);
                if (previous != null && !previous.equals(token)) {
                    throw new TokenizerFileException(file, "added_tokens[" + i + "] gives id " + id + " to \""
                            + token + "\" but the model vocabulary has \"" + previous + "\" there");
                }
                // An added token may repeat a model token with the same id (Qwen does so for none, Llama for
                // <s>); a different id for the same string would make encode ambiguous.
                Long other = byToken.get(token);
                if (other != null && other != id) {
                    throw new TokenizerFileException(file, "token \"" + token + "\" has two ids: " + other + " and " + id);
                }
                byToken.put(token, id);
                byId.put(id, token);
            }
        }
        if (byId.isEmpty()) {
            throw new TokenizerFileException(file, "the vocabulary is empty");
        }
        return new Vocabulary(byToken, byId);
    }

    private static void put(Map<String, Long> byToken, Map<Long, String> byId, String token, long id, Path file)
            throws TokenizerFileException {
        if (byToken.containsKey(token)) {
            throw new TokenizerFileException(file, "token \"" + token + "\" appears twice in model.vocab");
        }
        String previous = byId.put(id, token);
        if (previous != null) {
            throw new TokenizerFileException(file, "id " + id + " is used by both \"" + previous + "\" and \"" + token + "\"");
        }
        byToken.put(token, id);
    }

    private static long id(JsonNode node, Path file, String where) throws TokenizerFileException {
        if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToInt() || node.asInt() < 0) {
            throw new TokenizerFileException(file, where + " is not a non-negative 32-bit integer id: " + node);
        }
        return node.asInt();
    }

    /** The id of {@code token}, or null. */
    Long idOf(String token) {
        return idsByToken.get(token);
    }

    /** The token string of {@code id}, or null when no token has that id. */
    String tokenOf(long id) {
        return tokensById.get(id);
    }

    /** One past the largest id; every id the tokenizer can emit is below it. */
    long size() {
        return size;
    }
}
