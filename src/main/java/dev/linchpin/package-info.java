/**
 * Linchpin: critical-token fine-tuning of causal language models. This root package holds only
 * {@link dev.linchpin.UserError}, the one type every layer uses to mark errors meant for the user; the
 * layers themselves are described in {@code docs/ARCHITECTURE.md}.
 */
package dev.linchpin;
