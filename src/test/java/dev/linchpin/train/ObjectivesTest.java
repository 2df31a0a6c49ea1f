package dev.linchpin.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-token weights of each objective against hand-derived expectations. */
class ObjectivesTest {
    static MaskRecord record(boolean kept, int promptTokens, long[] response, List<Integer> critical) {
        return new MaskRecord("ex-1", 0, "q", "7", kept, "7", promptTokens, response, List.of(), "", critical, List.of());
    }

    @Test
    void cftWeightsExactlyTheCriticalPositions() {
        WeightedExample e = Objectives.cft(record(true, 3, new long[] {10, 11, 12, 13, 2}, List.of(1, 4)), new long[] {5, 6, 7});
        assertArrayEquals(new float[] {0, 1, 0, 0, 1}, e.weights());
        assertArrayEquals(new long[] {10, 11, 12, 13, 2}, e.response(), "targets are the model's own response, EOS last");
        // the shift convention puts response weight t on the position that predicts response[t]
        WeightedBatch b = WeightedBatch.of(List.of(e), 0, Normalization.SUM, 2, 1);
        float[] w = new float[(int) b.weights().numel()];
        b.weights().contiguous().data_ptr_float().get(w);
        long[] y = new long[w.length];
        b.targets().contiguous().data_ptr_long().get(y);
        assertArrayEquals(new float[] {0, 0, 0, 1, 0, 0, 1}, w);
        assertEquals(11, y[3]);
        assertEquals(2, y[6], "EOS is a supervised target");
    }

    @Test
    void cftRejectsPromptMismatchDroppedRecordsAndBadPositions() {
        long[] prompt = {5, 6, 7};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Objectives.cft(record(true, 4, new long[] {1, 2}, List.of(0)), prompt))
                .getMessage().contains("encodes to 3 tokens, the masks file says 4"));
        assertThrows(IllegalArgumentException.class, () -> Objectives.cft(record(false, 3, new long[] {1, 2}, List.of()), prompt));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Objectives.cft(record(true, 3, new long[] {1, 2}, List.of(2)), prompt))
                .getMessage().contains("critical position 2"));
    }

    @Test
    void randomAblationMatchesEachExamplesCriticalCountAndIsSeeded() {
        MaskRecord r = record(true, 1, new long[] {3, 4, 5, 6, 7, 8, 9, 2}, List.of(0, 5, 6));
        WeightedExample a = Objectives.random(r, new long[] {1}, new Random(3)), b = Objectives.random(r, new long[] {1}, new Random(3));
        assertEquals(3, a.trainableTokens());
        assertEquals(a, b, "same seed, same positions");
        boolean differs = false;
        for (int s = 4; s < 20 && !differs; s++) differs = !Objectives.random(r, new long[] {1}, new Random(s)).equals(a);
        assertTrue(differs, "positions depend on the seed");
    }

    @Test
    void numericWeightsDigitAndNumberTokens() {
        Map<Long, String> text = Map.of(1L, " 12", 2L, "<eos>", 3L, " apples", 4L, "3.5", 5L, "#", 6L, "-7", 7L, "x2");
        WeightedExample e = Objectives.numeric(new long[] {9}, new long[] {1, 3, 4, 5, 6, 7, 2}, text::get);
        assertArrayEquals(new float[] {1, 0, 1, 0, 1, 0, 0}, e.weights());
    }

    @Test
    void sftKeyRewritesTargetsAndStageTwoCoversTheAnswerSpanWithEos() throws Exception {
        Path dir = dev.linchpin.tokenizer.RealTokenizers.require("qwen3");   // skipped without it, failed in CI
        try (Tokenizer tok = Tokenizer.load(dir)) {
            long eos = 151645;
            WeightedExample[] two = Objectives.sftKey(tok, new long[] {1, 2}, "She has 3 + 4 = 7 apples.\n#### 7", eos);
            long[] resp = two[0].response();
            assertEquals("<Thinking>She has 3 + 4 = 7 apples.</Thinking><Answer>7</Answer>", tok.decode(java.util.Arrays.copyOf(resp, resp.length - 1), false));
            assertEquals(eos, resp[resp.length - 1]);
            assertEquals(resp.length, two[0].trainableTokens(), "stage 1: every token");
            float[] w2 = two[1].weights();
            int first = 0;
            while (w2[first] == 0) first++;
            assertEquals("<Answer>7</Answer>", tok.decode(java.util.Arrays.copyOfRange(resp, first, resp.length - 1), false), "stage 2: the answer span");
            for (int t = first; t < w2.length; t++) assertEquals(1f, w2[t], "stage 2 weight at " + t);
            for (String tag : List.of("<Thinking>", "</Thinking>", "<Answer>", "</Answer>")) assertEquals(tag, tok.decode(tok.encode(tag, false), false));
            assertThrows(IllegalArgumentException.class, () -> Objectives.sftKey(tok, new long[] {1}, "no marker", eos));
            assertThrows(IllegalArgumentException.class, () -> Objectives.sftKey(tok, new long[] {1}, "no marker", null, eos));

            // A verified response without "#### N" (the verifier took its last number): all of it is the reasoning,
            // the verified answer is the Answer part. A mined D_correct response of the demo looked like this one.
            WeightedExample[] unmarked = Objectives.sftKey(tok, new long[] {1, 2}, "He has 10 - 7 = 1", "1", eos);
            long[] r = unmarked[0].response();
            assertEquals("<Thinking>He has 10 - 7 = 1</Thinking><Answer>1</Answer>", tok.decode(java.util.Arrays.copyOf(r, r.length - 1), false));
            float[] u2 = unmarked[1].weights();
            int from = 0;
            while (u2[from] == 0) from++;
            assertEquals("<Answer>1</Answer>", tok.decode(java.util.Arrays.copyOfRange(r, from, r.length - 1), false));
            // with a marker the verified answer is not needed: the solution's own answer is used
            WeightedExample[] marked = Objectives.sftKey(tok, new long[] {1, 2}, "She has 3 + 4 = 7 apples.\n#### 7", "7", eos);
            assertArrayEquals(two[0].response(), marked[0].response());
        }
    }
}
