package dev.linchpin.engine;

/**
 * A branch rollout: continue {@code trajectory} from the prefix (its tokens {@code [0, point)},
 * {@code forcedToken}). In mask mining {@code point} is a response position t and
 * {@code forcedToken} one of the alternatives at t.
 *
 * @param requestId keys the sampling RNG (with the seed and the step), so a branch's sample does not
 *                  depend on what it is batched with; unused when greedy
 */
public record Branch(Trajectory trajectory, int point, long forcedToken, long requestId) {
    public Branch {
        if (trajectory == null) throw new IllegalArgumentException("branch has no trajectory");
    }
}
