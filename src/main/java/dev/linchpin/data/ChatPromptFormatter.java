package dev.linchpin.data;

import dev.linchpin.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Prompts an instruct model through its chat template. The conversation is the example's
 * {@link Example#promptMessages()} (for GSM8K/MATH/prompt-completion data: one user message holding the
 * question, optionally wrapped by a user template such as Qwen2.5-Math's
 * "{question}\nPlease reason step by step, and put your final answer within \boxed{}."), preceded by an
 * optional system message when the example has none. The renderer - the tokenizer package's Jinja chat
 * template with {@code add_generation_prompt=true} - turns it into text.
 */
public final class ChatPromptFormatter implements PromptFormatter {
    private final Function<List<ChatMessage>, String> renderer;
    private final String systemPrompt;
    private final BasePromptFormatter userTemplate;

    /** No system prompt, the question as the user message. */
    public ChatPromptFormatter(Function<List<ChatMessage>, String> renderer) {
        this(renderer, null, BasePromptFormatter.PLACEHOLDER);
    }

    /**
     * @param renderer     the chat-template renderer (must end with the assistant generation prompt)
     * @param systemPrompt a system message to put first when the example has no system message; null for none
     * @param userTemplate the user message for single-question examples, containing {@code {question}} once;
     *                     multi-message examples ({@link DatasetFormat#MESSAGES}) are passed through unchanged
     */
    public ChatPromptFormatter(Function<List<ChatMessage>, String> renderer, String systemPrompt, String userTemplate) {
        this.renderer = Objects.requireNonNull(renderer, "renderer");
        this.systemPrompt = systemPrompt;
        this.userTemplate = new BasePromptFormatter(Objects.requireNonNull(userTemplate, "userTemplate"));
    }

    /** The conversation that {@link #format} renders. */
    public List<ChatMessage> messages(Example example) {
        List<ChatMessage> source = example.promptMessages();
        List<ChatMessage> out = new ArrayList<>(source.size() + 1);
        boolean hasSystem = !source.isEmpty() && source.get(0).role().equals("system");
        if (systemPrompt != null && !hasSystem) {
            out.add(ChatMessage.system(systemPrompt));
        }
        if (source.size() == 1 && source.get(0).role().equals("user")) {
            out.add(ChatMessage.user(userTemplate.format(example)));
        } else {
            out.addAll(source);
        }
        return out;
    }

    @Override
    public String format(Example example) {
        String text = renderer.apply(List.copyOf(messages(example)));
        if (text == null) {
            throw new IllegalStateException("chat template renderer returned null for example " + example.id());
        }
        return text;
    }
}
