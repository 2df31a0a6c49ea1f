package dev.linchpin.data;

import dev.linchpin.tokenizer.Tokenizer;
import java.util.Locale;

/** Turns an example into the prompt token ids the model's response follows. */
@FunctionalInterface
public interface PromptEncoder {
    long[] encode(Example example);

    /** How prompts are written. */
    enum Style {
        /** CHAT when the tokenizer has a chat template, else BASE. */
        AUTO,
        /** A plain-text template ({@link BasePromptFormatter}), tokenized with the tokenizer's special tokens (BOS). */
        BASE,
        /** The tokenizer's chat template with the generation prompt, tokenized as rendered (the template writes BOS). */
        CHAT;

        /** Parses "auto", "base" or "chat" (any case). */
        public static Style parse(String name) {
            try {
                return valueOf(name.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("prompt format must be auto, base or chat, got '" + name + "'", e);
            }
        }
    }

    /**
     * The encoder for {@code style}.
     *
     * @param template     BASE: the whole prompt template; CHAT: the user-message template; both contain
     *                     {@code {question}} once; null for the defaults
     * @param systemPrompt CHAT: a system message to put first; null for none
     */
    static PromptEncoder of(Tokenizer tokenizer, Style style, String template, String systemPrompt) {
        Style s = style == Style.AUTO ? (tokenizer.chatTemplate() != null ? Style.CHAT : Style.BASE) : style;
        if (s == Style.BASE) {
            BasePromptFormatter f = template == null ? new BasePromptFormatter() : new BasePromptFormatter(template);
            return e -> tokenizer.encode(f.format(e), true);
        }
        if (tokenizer.chatTemplate() == null) {
            throw new IllegalArgumentException(tokenizer.directory() + " has no chat template; use the base prompt format");
        }
        ChatPromptFormatter f = new ChatPromptFormatter(m -> tokenizer.applyChatTemplate(m, true, null), systemPrompt,
                template == null ? BasePromptFormatter.PLACEHOLDER : template);
        return e -> tokenizer.encode(f.format(e), false);
    }
}
