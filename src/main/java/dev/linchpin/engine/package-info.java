/**
 * Java face of the native rollout engine (docs/ARCHITECTURE.md decisions 1, 2, 6): prefill trajectories
 * once, read each position's top alternatives, run branch rollouts that share a trajectory's KV cache
 * through staircase attention, and batched generation, with continuous batching under a KV budget,
 * on the CPU or a CUDA device ({@link dev.linchpin.engine.EngineDevice}). Entry point:
 * {@link dev.linchpin.engine.RolloutEngine}, which loads safetensors itself and needs no libtorch (a
 * mining or evaluation server ships without it). {@link dev.linchpin.engine.CausalLMEngines} (libtorch)
 * builds an engine from a training model and makes it follow that model as it trains.
 */
package dev.linchpin.engine;
