/**
 * Java face of the native rollout engine (docs/ARCHITECTURE.md decisions 1, 2, 6): prefill trajectories
 * once, read each position's top alternatives, run branch rollouts that share a trajectory's KV cache
 * through staircase attention, and batched generation, with continuous batching under a KV budget,
 * on the CPU or a CUDA device ({@link dev.linchpin.engine.EngineDevice}); the engine can follow a
 * model as it trains ({@code updateWeights}). Entry point: {@link dev.linchpin.engine.RolloutEngine}.
 */
package dev.linchpin.engine;
