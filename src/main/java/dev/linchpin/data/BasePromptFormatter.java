package dev.linchpin.data;

import java.util.Objects;

/**
 * Prompts a base (non-chat) model with a plain-text template. The default is lm-evaluation-harness's
 * GSM8K {@code doc_to_text}: {@code "Question: {question}\nAnswer:"}. The template must contain
 * {@code {question}} exactly once; nothing else in it is interpreted, so braces elsewhere (LaTeX) are
 * safe, and the question text is inserted verbatim even if it contains "{question}" itself.
 */
public final class BasePromptFormatter implements PromptFormatter {
    /** The placeholder replaced by the example's prompt text. */
    public static final String PLACEHOLDER = "{question}";
    /** lm-evaluation-harness gsm8k.yaml {@code doc_to_text}. */
    public static final String DEFAULT_TEMPLATE = "Question: {question}\nAnswer:";

    private final String before;
    private final String after;

    /** The {@link #DEFAULT_TEMPLATE}. */
    public BasePromptFormatter() {
        this(DEFAULT_TEMPLATE);
    }

    /** @throws IllegalArgumentException unless {@code template} contains {@code {question}} exactly once */
    public BasePromptFormatter(String template) {
        Objects.requireNonNull(template, "template");
        int at = template.indexOf(PLACEHOLDER);
        if (at < 0 || template.indexOf(PLACEHOLDER, at + 1) >= 0) {
            throw new IllegalArgumentException("prompt template must contain " + PLACEHOLDER + " exactly once: \""
                    + template + "\"");
        }
        this.before = template.substring(0, at);
        this.after = template.substring(at + PLACEHOLDER.length());
    }

    @Override
    public String format(Example example) {
        return before + example.prompt() + after;
    }
}
