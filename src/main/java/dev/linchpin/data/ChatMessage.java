package dev.linchpin.data;

import java.util.Objects;

/**
 * One message of a conversation, OpenAI style. This is the shape the chat-template renderer consumes:
 * {@link ChatPromptFormatter} hands a {@code List<ChatMessage>} to a
 * {@code Function<List<ChatMessage>, String>}, which the tokenizer package implements with the model's
 * Jinja chat template (where {@code role} and {@code content} become {@code message['role']} and
 * {@code message['content']}).
 *
 * @param role    "system", "user", "assistant", ... (non-blank)
 * @param content the text (non-null, may be empty)
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || role.isBlank()) {
            throw new IllegalArgumentException("chat message role must be non-blank");
        }
        Objects.requireNonNull(content, "chat message content");
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
}
