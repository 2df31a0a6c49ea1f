package dev.linchpin.verify;

/**
 * An answer found in a model response, before normalisation.
 *
 * @param answer the raw answer text, or null when {@code rule} is {@link ExtractionRule#NONE}
 * @param rule   the rule that found it
 */
public record Extraction(String answer, ExtractionRule rule) {
    public static final Extraction NONE = new Extraction(null, ExtractionRule.NONE);

    public boolean found() {
        return rule != ExtractionRule.NONE;
    }
}
