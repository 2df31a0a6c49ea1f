/**
 * The offline default: {@link dev.linchpin.defaults.EmbeddedDefault#ensure} returns a small
 * Llama-architecture model trained from scratch on the synthetic arithmetic task, with its
 * project-built tokenizer and data splits, in Hugging Face layout, cached by the hash of its
 * {@link dev.linchpin.defaults.DefaultConfig}. By hand: {@code linchpin default [standard|tiny]
 * [--cache DIR] [--set key=value ...]}.
 */
package dev.linchpin.defaults;
