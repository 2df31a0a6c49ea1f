package dev.linchpin.eval;

import java.util.List;

/**
 * Everything evaluated for one question.
 *
 * @param id      the example id
 * @param line    its 1-based line in the data file
 * @param gold    the gold answer
 * @param greedy  the greedy response
 * @param samples the n temperature samples, in request order
 */
public record QuestionResult(String id, long line, String gold, SampleResult greedy, List<SampleResult> samples) {
    public QuestionResult {
        samples = List.copyOf(samples);
    }

    /** How many samples are correct (the c of pass@k). */
    public int correctSamples() {
        int c = 0;
        for (SampleResult s : samples) if (s.correct()) c++;
        return c;
    }
}
