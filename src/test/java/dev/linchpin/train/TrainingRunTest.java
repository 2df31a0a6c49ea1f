package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The training job's settings: what each objective needs, and the switches the objective decides. */
class TrainingRunTest {
    static final Path MODEL = Path.of("m"), OUT = Path.of("o"), DATA = Path.of("d.jsonl"), MASKS = Path.of("masks.jsonl");
    static final FineTuneConfig CONFIG = FineTuneConfig.builder(10).build();

    static TrainingRun.Builder settings(Objective o) {
        return TrainingRun.Settings.builder(MODEL, o, OUT).data(DATA, dev.linchpin.data.DatasetFormat.AUTO).config(CONFIG);
    }

    @Test
    void masksAreRequiredWhereTheWeightsOrTheResponsesComeFromThem() {
        for (Objective o : Objective.values()) {
            if (o.needsMasks()) assertThrows(IllegalArgumentException.class, () -> settings(o).build(), o.cliName());
            else settings(o).build();
            assertThrows(IllegalArgumentException.class, () -> settings(o).responses(TrainingRun.Responses.MINED).build(), o.cliName());
            settings(o).masks(MASKS).responses(TrainingRun.Responses.MINED).build();
        }
        assertEquals(java.util.List.of(Objective.CFT, Objective.RANDOM),
                java.util.Arrays.stream(Objective.values()).filter(Objective::needsMasks).toList());
    }

    @Test
    void theObjectiveDecidesDftWhateverTheConfigSays() {
        assertTrue(settings(Objective.DFT).build().config().dft());
        assertFalse(settings(Objective.SFT).config(CONFIG.toBuilder().dft(true).build()).build().config().dft());
        assertEquals(CONFIG, settings(Objective.SFT).build().config(), "otherwise the config is kept as given");
    }

    @Test
    void sftKeyStageOneIsHalfUnlessSet() {
        assertEquals(5, settings(Objective.SFTKEY).build().stage1Steps());
        assertEquals(3, settings(Objective.SFTKEY).sftKeyStage1Steps(3).build().stage1Steps());
    }

    @Test
    void objectivesParseTheirCommandLineNames() {
        for (Objective o : Objective.values()) assertEquals(o, Objective.parse(" " + o.cliName().toUpperCase() + " "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Objective.parse("ppo"));
        assertTrue(e.getMessage().contains("sft, cft, sftkey, dft, random or numeric"), e.getMessage());
    }
}
