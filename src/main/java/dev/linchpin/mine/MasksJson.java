package dev.linchpin.mine;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The JSON form of {@link MaskRecord}: snake_case fields in declaration order, one line, no timestamps. */
public final class MasksJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private MasksJson() {}

    /** One line of JSON (no newline inside: JSON escapes newlines in strings). */
    public static String toLine(MaskRecord record) {
        try {
            return JSON.writeValueAsString(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the record of " + record.id(), e);
        }
    }

    /** Parses one line; throws {@link JsonProcessingException} with the parser's message on bad input. */
    public static MaskRecord fromLine(String line) throws JsonProcessingException {
        MaskRecord r = JSON.readValue(line, MaskRecord.class);
        if (r.id() == null) throw new IllegalArgumentException("record has no id");
        return r;
    }

    static ObjectMapper mapper() {
        return JSON;
    }
}
