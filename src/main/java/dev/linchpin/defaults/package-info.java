/**
 * The offline default: {@link dev.linchpin.defaults.EmbeddedDefault#ensure} returns a small
 * Llama-architecture model trained from scratch on the synthetic arithmetic task, with its
 * project-built tokenizer and data splits, in Hugging Face layout, cached by the hash of its
 * {@link dev.linchpin.defaults.DefaultConfig}. Run by hand with
 * {@code java -cp ... dev.linchpin.defaults.EmbeddedDefault [standard|tiny] [--cache DIR] [key=value ...]}.
 */
package dev.linchpin.defaults;
