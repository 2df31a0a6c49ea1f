package dev.linchpin.tokenizer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One chat turn as chat templates see it: {@code message.role}, {@code message.content}, plus any extra
 * fields a template reads (Qwen3 reads {@code reasoning_content} and {@code tool_calls}). Also the
 * message type of the data readers ({@code messages} JSONL) and of {@code ChatPromptFormatter}.
 *
 * @param role    "system", "user", "assistant", "tool", ...
 * @param content the text of the turn
 * @param extra   further fields, visible to the template under their keys; never null
 */
public record ChatMessage(String role, String content, Map<String, Object> extra) {
    public ChatMessage {
        if (role == null || role.isBlank()) {
            throw new IllegalArgumentException("chat message role must be non-blank");
        }
        Objects.requireNonNull(content, "chat message content");
        extra = extra == null ? Map.of() : Map.copyOf(extra);
        if (extra.containsKey("role") || extra.containsKey("content")) {
            throw new IllegalArgumentException("extra fields may not redefine role or content");
        }
    }

    public ChatMessage(String role, String content) {
        this(role, content, Map.of());
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** The message as the dict transformers hands to the template. */
    Map<String, Object> toTemplateValue() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        m.putAll(extra);
        return m;
    }
}
