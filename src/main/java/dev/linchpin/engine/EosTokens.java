package dev.linchpin.engine;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The token ids a rollout stops at. A tokenizer and its model's config.json may name different EOS
 * tokens (an instruct model's config lists the end-of-turn id, its tokenizer the end-of-text id), and a
 * response ends at either, so mining and evaluation stop at their union.
 */
public final class EosTokens {
    private EosTokens() {}

    /** The tokenizer's EOS ids, then the model's that are not among them, each once. */
    public static long[] union(Collection<Long> tokenizerEos, Collection<Long> modelEos) {
        Set<Long> all = new LinkedHashSet<>(tokenizerEos);
        all.addAll(modelEos);
        return all.stream().mapToLong(Long::longValue).toArray();
    }
}
