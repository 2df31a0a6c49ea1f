package dev.linchpin.options;

import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.PromptEncoder;
import picocli.CommandLine.Option;

/**
 * How data records are read and turned into prompts, shared by mine, train, eval and the Spark job (a
 * picocli mixin): training on masks must write prompts exactly as mining did, so the options and their
 * defaults are the same.
 */
public final class PromptOptions {
    @Option(names = "--format", defaultValue = "auto", description = "Data format: auto, gsm8k, math, prompt-completion, messages (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = "--prompt-format", defaultValue = "auto", description = "auto (chat if the tokenizer has a chat template), base or chat; "
            + "training on masks must use what mining used (default: ${DEFAULT-VALUE}).")
    String promptFormat;
    @Option(names = "--prompt-template", description = "Base: the prompt template; chat: the user-message template; contains {question}.")
    String promptTemplate;
    @Option(names = "--system-prompt", description = "Chat: a system message put first.")
    String systemPrompt;

    /** The data format ({@code --format}). */
    public DatasetFormat format() {
        return DatasetFormat.fromName(format);
    }

    /** The prompt style ({@code --prompt-format}). */
    public PromptEncoder.Style style() {
        return PromptEncoder.Style.parse(promptFormat);
    }

    /** {@code --prompt-template}, or null. */
    public String template() {
        return promptTemplate;
    }

    /** {@code --system-prompt}, or null. */
    public String systemPrompt() {
        return systemPrompt;
    }
}
