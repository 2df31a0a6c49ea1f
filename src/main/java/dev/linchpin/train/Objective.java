package dev.linchpin.train;

import java.util.Locale;

/**
 * The training objectives. Every one is a per-token weight on response tokens ({@link Objectives} builds
 * them); they differ in where the weights come from and in two switches of the loss and the schedule.
 */
public enum Objective {
    /** Supervised fine-tuning: every response token, EOS included, weight 1. */
    SFT,
    /** Critical-token fine-tuning: weight 1 on the masks' critical positions of the model's own responses. */
    CFT,
    /** SFTKey: full SFT on {@code <Thinking>…</Thinking><Answer>…</Answer>} targets, then the Answer span only. */
    SFTKEY,
    /** Dynamic fine-tuning: SFT's weights, each rescaled by the token's detached probability. */
    DFT,
    /** Ablation: as many uniformly drawn positions per response as CFT marks critical. */
    RANDOM,
    /** Ablation: the response tokens that spell a number. */
    NUMERIC;

    /** Parses the command-line name ({@code sft}, {@code cft}, ...; any case). */
    public static Objective parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("objective must be sft, cft, sftkey, dft, random or numeric, got '" + s + "'", e);
        }
    }

    /** The command-line name, also used for stage names and run directories: {@code sft}, {@code cft}, .... */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the weights come from a masks file ({@code linchpin mine}): CFT and its random ablation. */
    public boolean needsMasks() {
        return this == CFT || this == RANDOM;
    }

    /** Whether the loss rescales each weight by the detached probability of its token (DFT). */
    public boolean detachedProbabilityWeights() {
        return this == DFT;
    }

    /** Whether training runs in two stages (SFTKey: full SFT, then the Answer span). */
    public boolean twoStages() {
        return this == SFTKEY;
    }
}
