package dev.linchpin.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a tokenizer directory says besides the vocabulary: special tokens and EOS ids from
 * {@code tokenizer_config.json} and {@code generation_config.json}, the chat template (from
 * {@code chat_template.jinja} when present, as transformers saves it since 4.43, else from
 * {@code tokenizer_config.json}) and the decode clean-up flag.
 */
record TokenizerSettings(
        String bosToken,
        Long bosTokenId,
        String eosToken,
        Set<Long> eosTokenIds,
        String padToken,
        Long padTokenId,
        String unkToken,
        String chatTemplate,
        Path chatTemplateFile,
        boolean cleanUpTokenizationSpaces,
        boolean cleanUpBpeAnyway) {

    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String GENERATION_CONFIG = "generation_config.json";
    static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    static TokenizerSettings load(Path dir, Vocabulary vocab) throws TokenizerFileException {
        Path configFile = dir.resolve(TOKENIZER_CONFIG);
        JsonNode config = JsonFiles.readObject(configFile);

        String bos = tokenString(config, "bos_token", configFile);
        String eos = tokenString(config, "eos_token", configFile);
        String pad = tokenString(config, "pad_token", configFile);
        String unk = tokenString(config, "unk_token", configFile);
        Long bosId = idOf(vocab, bos, "bos_token", configFile);
        Long eosId = idOf(vocab, eos, "eos_token", configFile);
        Long padId = idOf(vocab, pad, "pad_token", configFile);
        idOf(vocab, unk, "unk_token", configFile);

        Set<Long> eosIds = new LinkedHashSet<>();
        if (eosId != null) {
            eosIds.add(eosId);
        }
        Path generationFile = dir.resolve(GENERATION_CONFIG);
        if (Files.exists(generationFile)) {
            JsonNode generation = JsonFiles.readObject(generationFile);
            JsonNode eosNode = generation.get("eos_token_id");
            if (eosNode != null && !eosNode.isNull()) {
                if (eosNode.isArray()) { // e.g. Llama 3.1 / Qwen2.5-Instruct list several stop tokens
                    for (int i = 0; i < eosNode.size(); i++) {
                        eosIds.add(checkedId(eosNode.get(i), vocab, "eos_token_id[" + i + "]", generationFile));
                    }
                } else {
                    eosIds.add(checkedId(eosNode, vocab, "eos_token_id", generationFile));
                }
            }
            // The model's generation config may be the only place naming BOS/pad ids.
            if (bosId == null && generation.hasNonNull("bos_token_id")) {
                bosId = checkedId(generation.get("bos_token_id"), vocab, "bos_token_id", generationFile);
            }
            if (padId == null && generation.hasNonNull("pad_token_id")) {
                padId = checkedId(generation.get("pad_token_id"), vocab, "pad_token_id", generationFile);
            }
        }

        String template = null;
        Path templateFile = null;
        Path jinjaFile = dir.resolve(CHAT_TEMPLATE_FILE);
        if (Files.exists(jinjaFile)) {
            template = JsonFiles.readText(jinjaFile);
            templateFile = jinjaFile;
        } else if (config.hasNonNull("chat_template")) {
            template = chatTemplateField(config.get("chat_template"), configFile);
            templateFile = configFile;
        }

        // transformers' default for clean_up_tokenization_spaces has changed over versions; a config
        // that omits it is read as false, which is what the tokenizers library itself does.
        boolean cleanUp = config.path("clean_up_tokenization_spaces").asBoolean(false);
        boolean bpeAnyway = config.path("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output").asBoolean(false);
        return new TokenizerSettings(bos, bosId, eos, Collections.unmodifiableSet(eosIds), pad, padId, unk,
                template, templateFile, cleanUp, bpeAnyway);
    }

    /**
     * A special-token field: a string, null/absent, or the {@code {"__type": "AddedToken", "content": ...}}
     * object older transformers versions wrote.
     */
    private static String tokenString(JsonNode config, String field, Path file) throws TokenizerFileException {
        JsonNode node = config.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").asText();
        }
        throw new TokenizerFileException(file, field + " is neither a string nor an AddedToken object: " + node);
    }

    private static Long idOf(Vocabulary vocab, String token, String field, Path file) throws TokenizerFileException {
        if (token == null) {
            return null;
        }
        Long id = vocab.idOf(token);
        if (id == null) {
            throw new TokenizerFileException(file, field + " \"" + token + "\" is not in tokenizer.json's vocabulary");
        }
        return id;
    }

    private static long checkedId(JsonNode node, Vocabulary vocab, String field, Path file) throws TokenizerFileException {
        if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToLong()) {
            throw new TokenizerFileException(file, field + " is not an integer: " + node);
        }
        long id = node.asLong();
        if (id < 0 || id >= vocab.size()) {
            throw new TokenizerFileException(file, field + " = " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
        }
        return id;
    }

    /** {@code chat_template} is a string, or a list of {"name", "template"} of which "default" is used. */
    private static String chatTemplateField(JsonNode node, Path file) throws TokenizerFileException {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if ("default".equals(named.path("name").asText(null)) && named.path("template").isTextual()) {
                    return named.get("template").asText();
                }
            }
            throw new TokenizerFileException(file, "chat_template is a list without a \"default\" template");
        }
        throw new TokenizerFileException(file, "chat_template is neither a string nor a list of named templates");
    }
}
