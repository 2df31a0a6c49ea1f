package dev.linchpin.data;

/**
 * Turns an {@link Example} into the exact text a model is prompted with (the model's response is
 * generated right after it). Implementations are stateless and thread-safe.
 */
@FunctionalInterface
public interface PromptFormatter {
    String format(Example example);
}
