package dev.linchpin.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads the JSON files of a tokenizer directory so that every failure names the file. */
final class JsonFiles {
    /** Duplicate keys are rejected: in a hostile file they would make two readers disagree. */
    static final ObjectMapper MAPPER =
            new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private JsonFiles() {}

    /** The text of a required file, as UTF-8. */
    static String readText(Path file) throws TokenizerFileException {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerFileException(file, "missing (not a regular file)");
        }
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new TokenizerFileException(file, "missing", e);
        } catch (IOException e) {
            throw new TokenizerFileException(file, "unreadable or not UTF-8: " + e, e);
        }
    }

    /** Parses {@code text} (the content of {@code file}) as one JSON object. */
    static JsonNode parseObject(Path file, String text) throws TokenizerFileException {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new TokenizerFileException(file, "malformed JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                            + ", column " + e.getLocation().getColumnNr()), e);
        }
        if (node == null || !node.isObject()) {
            throw new TokenizerFileException(file, "expected a JSON object at the top level");
        }
        return node;
    }

    /** Reads and parses a required JSON object file. */
    static JsonNode readObject(Path file) throws TokenizerFileException {
        return parseObject(file, readText(file));
    }
}
