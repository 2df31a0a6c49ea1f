package dev.linchpin.engine;

/**
 * A prefilled token sequence whose KV cache the engine keeps until {@link RolloutEngine#release}.
 *
 * @param id     the engine's handle
 * @param length number of tokens (and cached positions)
 */
public record Trajectory(long id, int length) {}
