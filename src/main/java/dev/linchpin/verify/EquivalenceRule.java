package dev.linchpin.verify;

/** Which rule of {@link AnswerEquivalence} judged two normalised answers equal, or {@link #NONE}. */
public enum EquivalenceRule {
    /** Equal strings after normalisation (case-insensitive, like Qwen2.5-Math's math_equal). */
    EXACT_STRING,
    /** Both are integers or decimals of equal exact value ({@code 3.0} and {@code 3}). */
    NUMERIC,
    /** Equal exact value where at least one side is a fraction ({@code \frac{1}{2}} and {@code 0.5}). */
    FRACTION,
    /** Equal after reading the side written with a percent sign as value / 100 ({@code 50\%} and {@code 0.5}). */
    PERCENT,
    /** Tuples/intervals with the same brackets whose elements are pairwise equivalent. */
    TUPLE,
    /** Not equivalent (or nothing to compare). */
    NONE
}
