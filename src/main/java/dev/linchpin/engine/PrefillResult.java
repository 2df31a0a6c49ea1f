package dev.linchpin.engine;

import java.util.List;

/**
 * Prefilled trajectories and, for every position t, the {@code topN} most probable next tokens
 * (the distribution of token t + 1 given tokens 0..t), most probable first, ties to the lowest id.
 * In CFT the alternatives at response position t are entries 1..k of row t − 1.
 *
 * @param topIds   per trajectory, [length × topN] row-major
 * @param topProbs per trajectory, [length × topN] row-major
 */
public record PrefillResult(List<Trajectory> trajectories, int topN, List<long[]> topIds, List<float[]> topProbs) {}
