package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The builder's defaults and the learning-rate schedules, against numbers worked out by hand. */
class FineTuneConfigTest {
    @Test
    void linearDecayGoesStraightFromThePeakToTheFloorAfterWarmup() {
        FineTuneConfig c = FineTuneConfig.builder(110).learningRate(1.0, 10).schedule(FineTuneConfig.Schedule.LINEAR, 0.1).build();
        assertEquals(0.1, c.lr(0), 1e-12);      // warmup: (0+1)/10
        assertEquals(0.5, c.lr(4), 1e-12);
        assertEquals(1.0, c.lr(10), 1e-12);     // start of the decay
        assertEquals(0.1 + 0.9 * 0.75, c.lr(35), 1e-12);   // a quarter of the 100 decay steps
        assertEquals(0.1 + 0.9 * 0.5, c.lr(60), 1e-12);    // halfway
        assertEquals(0.1 + 0.9 * 0.01, c.lr(109), 1e-12);  // the last step
        assertEquals(0.1, c.lr(110), 1e-12);
        assertEquals(0.1, c.lr(500), 1e-12);    // stays at the floor past the end
    }

    @Test
    void cosineIsTheDefaultAndFollowsLrSchedule() {
        FineTuneConfig c = FineTuneConfig.builder(110).learningRate(1.0, 10).schedule(FineTuneConfig.Schedule.COSINE, 0.1).build();
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.sqrt(0.5)), c.lr(35), 1e-12);
        assertEquals(FineTuneConfig.Schedule.COSINE, FineTuneConfig.builder(3).build().schedule());
    }

    @Test
    void builderDefaultsAreTheTrainCommandsDefaults() {
        FineTuneConfig c = FineTuneConfig.builder(20).build();
        assertEquals(new FineTuneConfig(20, 8, 1, 1e-4, 0, FineTuneConfig.Schedule.COSINE, 0, 0, 1, 0L,
                Math.max(1, Runtime.getRuntime().availableProcessors()), false, Normalization.TOKEN_MEAN, false, 0, 1, Precision.FP32), c);
        assertEquals(c, c.toBuilder().build(), "toBuilder keeps every field");
        FineTuneConfig varied = c.toBuilder().batch(2, 3).seed(9).precision(Precision.BF16).keepCheckpoints(4).build();
        assertEquals(6, varied.stepExamples());
        assertEquals(9, varied.seed());
        assertEquals(Precision.BF16, varied.precision());
        assertEquals(4, varied.keepCheckpoints());
        assertEquals(c.peakLr(), varied.peakLr());
    }

    @Test
    void buildValidates() {
        assertThrows(IllegalArgumentException.class, () -> FineTuneConfig.builder(0).build());
        assertThrows(IllegalArgumentException.class, () -> FineTuneConfig.builder(5).batch(0, 1).build());
        assertThrows(IllegalArgumentException.class, () -> FineTuneConfig.builder(5).keepCheckpoints(0).build());
        assertThrows(IllegalArgumentException.class, () -> FineTuneConfig.builder(5).learningRate(1e-3, 6).build());
        assertThrows(IllegalArgumentException.class, () -> FineTuneConfig.builder(5).normalization(null).build());
    }
}
