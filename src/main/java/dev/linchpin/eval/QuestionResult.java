package dev.linchpin.eval;

import java.util.List;

/**
 * Everything evaluated for one question.
 *
 * @param id      the example id
 * @param line    its 1-based line in the data file
 * @param gold    the gold answer
 * @param greedy  the greedy response (null when the question failed)
 * @param samples the n temperature samples, in request order (empty when the question failed)
 * @param error   null for an evaluated question; for one that could not be evaluated (its prompt does not
 *                fit the KV budget, its text cannot be encoded or verified, ...) the reason. Failed
 *                questions are left out of every score and counted apart ({@link Score#failed}).
 */
public record QuestionResult(String id, long line, String gold, SampleResult greedy, List<SampleResult> samples,
        String error) {
    public QuestionResult {
        samples = List.copyOf(samples);
        if (error == null && greedy == null) throw new IllegalArgumentException("an evaluated question has a greedy response");
    }

    /** An evaluated question. */
    public QuestionResult(String id, long line, String gold, SampleResult greedy, List<SampleResult> samples) {
        this(id, line, gold, greedy, samples, null);
    }

    /** A question that could not be evaluated, with the reason. */
    public static QuestionResult failed(String id, long line, String gold, String error) {
        return new QuestionResult(id, line, gold, null, List.of(), java.util.Objects.requireNonNull(error, "error"));
    }

    /** True when the question could not be evaluated ({@link #error} says why). */
    public boolean failed() {
        return error != null;
    }

    /** How many samples are correct (the c of pass@k). */
    public int correctSamples() {
        int c = 0;
        for (SampleResult s : samples) if (s.correct()) c++;
        return c;
    }
}
