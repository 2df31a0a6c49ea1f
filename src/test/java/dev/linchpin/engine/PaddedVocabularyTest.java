package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.PaddedFixture;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine on a checkpoint whose embedding is padded beyond its tokenizer (made by transformers,
 * {@link PaddedFixture}): unrestricted it picks padded ids exactly as transformers does; restricted to
 * the tokenizer ({@link RolloutEngine#restrictVocabulary}) its greedy continuation, top alternatives and
 * their probabilities are transformers' with the padded ids suppressed, and no sampled token is padded.
 */
class PaddedVocabularyTest {
    static final long BUDGET = 64L << 20;
    static final PaddedFixture FIXTURE = PaddedFixture.load();

    @Test
    void greedyEqualsTransformersUnrestrictedAndWithThePaddingSuppressed() throws IOException {
        try (RolloutEngine engine = RolloutEngine.fromHuggingFace(FIXTURE.dir(), BUDGET, 1)) {
            assertEquals(FIXTURE.vocabSize(), engine.validTokens(), "unrestricted by default");
            for (PaddedFixture.Case c : FIXTURE.cases()) {
                long[] free = engine.generate(c.prompt(), 1, RolloutOptions.greedy(c.unrestrictedGreedy().length, 0)).get(0).tokens();
                assertArrayEquals(c.unrestrictedGreedy(), free, "unrestricted: transformers' own greedy");
                assertTrue(java.util.Arrays.stream(free).anyMatch(t -> t >= FIXTURE.tokenizerSize()),
                        "the fixture must provoke padded ids");
            }
            engine.restrictVocabulary(FIXTURE.tokenizerSize());
            assertEquals(FIXTURE.tokenizerSize(), engine.validTokens());
            for (PaddedFixture.Case c : FIXTURE.cases()) {
                long[] kept = engine.generate(c.prompt(), 1, RolloutOptions.greedy(c.restrictedGreedy().length, 0)).get(0).tokens();
                assertArrayEquals(c.restrictedGreedy(), kept, "restricted: transformers' greedy with suppress_tokens = the padding");
            }
        }
    }

    @Test
    void alternativesAndProbabilitiesAreTheTokenizersOwn() throws IOException {
        try (RolloutEngine engine = RolloutEngine.fromHuggingFace(FIXTURE.dir(), BUDGET, 1)) {
            engine.restrictVocabulary(FIXTURE.tokenizerSize());
            for (PaddedFixture.Case c : FIXTURE.cases()) {
                long[] sequence = EngineTesting.concat(c.prompt(), c.prompt().length, c.restrictedGreedy());
                PrefillResult r = engine.prefill(List.of(sequence), 3);
                try {
                    long[] ids = r.topIds().get(0);
                    float[] probs = r.topProbs().get(0);
                    for (int t = 0; t < sequence.length; t++) {
                        for (int k = 0; k < 3; k++) {
                            assertEquals(c.top3Ids()[t][k], ids[t * 3 + k], "position " + t + " rank " + k);
                            double expected = c.top3Probs()[t][k];
                            assertEquals(expected, probs[t * 3 + k], 2e-5 * expected + 1e-7, "position " + t + " rank " + k);
                        }
                    }
                } finally {
                    engine.release(r.trajectories().get(0));
                }
            }
        }
    }

    @Test
    void sampledTokensNeverLeaveTheTokenizer() throws IOException {
        try (RolloutEngine engine = RolloutEngine.fromHuggingFace(FIXTURE.dir(), BUDGET, 1)) {
            long[] prompt = FIXTURE.cases().get(0).prompt();
            RolloutOptions hot = RolloutOptions.sampling(24, 1.5, 1.0, 7L);
            assertTrue(padded(engine.generate(prompt, 16, hot)) > 0, "unrestricted, sampling picks padded ids");
            engine.restrictVocabulary(FIXTURE.tokenizerSize());
            for (RolloutOptions o : List.of(hot, RolloutOptions.sampling(24, 0.7, 0.8, 8L), RolloutOptions.greedy(24))) {
                List<RolloutOutput> out = engine.generate(prompt, 16, o);
                assertEquals(0, padded(out), "T=" + o.temperature() + " top-p=" + o.topP());
                for (RolloutOutput r : out) assertEquals(24, r.tokens().length, "no EOS given: full length");
            }
        }
    }

    @Test
    void restrictionArgumentsAreChecked() throws IOException {
        try (RolloutEngine engine = RolloutEngine.fromHuggingFace(FIXTURE.dir(), BUDGET, 1)) {
            assertThrows(IllegalArgumentException.class, () -> engine.restrictVocabulary(0));
            assertThrows(IllegalArgumentException.class, () -> engine.restrictVocabulary(FIXTURE.vocabSize() + 1));
            engine.restrictVocabulary(2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.prefill(List.of(FIXTURE.cases().get(0).prompt()), 3));
            assertTrue(e.getMessage().contains("valid tokens"), e.getMessage());
            engine.restrictVocabulary(FIXTURE.vocabSize());   // back to the whole embedding
            assertEquals(FIXTURE.vocabSize(), engine.validTokens());
        }
    }

    private static long padded(List<RolloutOutput> outputs) {
        long n = 0;
        for (RolloutOutput o : outputs) for (long t : o.tokens()) if (t >= FIXTURE.tokenizerSize()) n++;
        return n;
    }
}
