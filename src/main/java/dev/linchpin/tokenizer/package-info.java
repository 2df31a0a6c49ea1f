/**
 * Tokenizers and chat templates.
 *
 * <p>{@link dev.linchpin.tokenizer.Tokenizer} loads a Hugging Face tokenizer directory
 * ({@code tokenizer.json}, {@code tokenizer_config.json}, optionally {@code generation_config.json} and
 * {@code chat_template.jinja}); the encoding itself runs in the Rust {@code tokenizers} library through
 * DJL's binding, kept offline by {@link dev.linchpin.tokenizer.DjlTokenizers}. Chat templates render with
 * jinjava plus the Python/transformers features real templates use ({@link
 * dev.linchpin.tokenizer.ChatTemplate}). {@link dev.linchpin.tokenizer.TokenizerBuilder} writes the
 * project's own small word-level tokenizer for the synthetic arithmetic task in the same format.
 */
package dev.linchpin.tokenizer;
