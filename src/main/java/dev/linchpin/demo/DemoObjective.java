package dev.linchpin.demo;

import dev.linchpin.train.Objective;
import java.util.Locale;

/**
 * What the demo trains and compares. Each is a training {@link Objective} on D_correct; the entropy
 * objective is CFT's loss on another masks file: the base's top-entropy positions at CFT's density
 * ({@link EntropyMasks}), so it differs from CFT only by which positions are trained.
 */
public enum DemoObjective {
    SFT(Objective.SFT, false),
    CFT(Objective.CFT, false),
    SFTKEY(Objective.SFTKEY, false),
    DFT(Objective.DFT, false),
    RANDOM(Objective.RANDOM, false),
    /** Forking tokens (arXiv 2506.01939): the base's highest-entropy positions, as many per response as CFT marks. */
    ENTROPY(Objective.CFT, true);

    private final Objective objective;
    private final boolean entropyMasks;

    DemoObjective(Objective objective, boolean entropyMasks) {
        this.objective = objective;
        this.entropyMasks = entropyMasks;
    }

    /** The training objective (its loss and schedule switches). */
    public Objective objective() {
        return objective;
    }

    /** Whether its weights come from the entropy masks file rather than the mined masks. */
    public boolean entropyMasks() {
        return entropyMasks;
    }

    /** The name used in demo.json, the run directory and the report. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The model name of this objective trained with seed {@code seed}: {@code cft-s0}, .... */
    public String model(long seed) {
        return cliName() + "-s" + seed;
    }
}
