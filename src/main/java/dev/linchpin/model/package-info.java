/**
 * Llama-family causal language models on libtorch with Hugging Face checkpoints:
 * {@link dev.linchpin.model.ModelConfig} (config.json), {@link dev.linchpin.model.CausalLM}
 * (load/save/forward/KV-cache decoding), {@link dev.linchpin.model.KvCache} and
 * {@link dev.linchpin.model.Generation}. Supported architectures are listed in
 * {@link dev.linchpin.model.ModelFamily}. Numerics follow transformers' modeling code (RMSNorm in
 * float32, RoPE tables in float32 with rotate_half, SDPA attention with GQA).
 */
package dev.linchpin.model;
