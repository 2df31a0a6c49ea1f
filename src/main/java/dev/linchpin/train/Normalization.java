package dev.linchpin.train;

import java.util.Locale;

/**
 * How the weighted token losses of one optimizer step are reduced to the step's loss. The step may span
 * several gradient-accumulation micro-batches; every mode is defined over the whole step, so that
 * accumulating k micro-batches gives the same gradient as one batch holding them all.
 */
public enum Normalization {
    /** Σ w·nll / (number of tokens with w ≠ 0 in the whole step, across micro-batches). */
    TOKEN_MEAN,
    /** Mean over the step's sequences of each sequence's Σ w·nll / (its tokens with w ≠ 0). */
    SEQUENCE_MEAN,
    /** Σ w·nll, no division. */
    SUM;

    /** Parses token-mean, sequence-mean or sum (any case, '-' or '_'). */
    public static Normalization parse(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        for (Normalization v : values()) if (v.name().equals(n)) return v;
        throw new IllegalArgumentException("normalization must be token-mean, sequence-mean or sum, got '" + name + "'");
    }
}
