package dev.linchpin.mine;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One line of a masks file: the outcome of mining one example. Written for every example, kept or
 * dropped, so that a restarted run knows which ids are finished. Holds no timestamps or host facts:
 * the same model, data and options give byte-identical records.
 *
 * @param id             the example's id
 * @param index          0-based position of the example in the data file (records follow data order)
 * @param question       the example's prompt text
 * @param gold           the bare gold answer
 * @param kept           whether the greedy response was verified correct (D_correct); dropped
 *                       examples have no positions
 * @param answer         the answer the verifier extracted from the response (null if none)
 * @param promptTokens   number of prompt tokens the response follows
 * @param responseIds    the greedy response's token ids (an EOS id last when it stopped on one)
 * @param responseTokens each response token's text on its own, for display
 * @param responseText   the decoded response (special tokens skipped), as verified
 * @param critical       the critical response positions t (c_t = 1), ascending
 * @param positions      every examined position with its alternatives and what they led to
 * @param error          null for a mined example; for an example that could not be mined (its prompt
 *                       does not fit the KV budget, its text cannot be encoded or verified, ...) the
 *                       reason: such a record is not kept and has no response, and the job went on
 *                       without it (absent from the JSON when null, so mined records keep their bytes)
 */
public record MaskRecord(String id, long index, String question, String gold, boolean kept, String answer,
        int promptTokens, long[] responseIds, List<String> responseTokens, String responseText, List<Integer> critical,
        List<Position> positions, @JsonInclude(JsonInclude.Include.NON_NULL) String error) {

    /** A mined example (no error). */
    public MaskRecord(String id, long index, String question, String gold, boolean kept, String answer,
            int promptTokens, long[] responseIds, List<String> responseTokens, String responseText, List<Integer> critical,
            List<Position> positions) {
        this(id, index, question, gold, kept, answer, promptTokens, responseIds, responseTokens, responseText, critical,
                positions, null);
    }

    /** The record of an example that could not be mined, with the reason. */
    public static MaskRecord failed(String id, long index, String question, String gold, String error) {
        return new MaskRecord(id, index, question, gold, false, null, 0, new long[0], List.of(), "", List.of(), List.of(),
                error);
    }

    /** True when the example could not be mined ({@link #error} says why). */
    public boolean failed() {
        return error != null;
    }

    /**
     * One examined response position.
     *
     * @param t            0-based response position
     * @param token        the response token y_t
     * @param p            its probability under the model (null if it was not among the top k + 1, which
     *                     happens only on a near-tie between the prefill and the greedy decode)
     * @param critical     c_t: every alternative failed
     * @param alternatives the k alternatives, most probable first
     */
    public record Position(int t, long token, Float p, boolean critical, List<Alternative> alternatives) {}

    /**
     * One alternative token at a position and its continuations.
     *
     * @param token         the alternative token id
     * @param text          its text
     * @param p             its probability at t
     * @param failed        whether at least the failure threshold of its continuations was wrong
     * @param continuations one per rollout
     */
    public record Alternative(long token, String text, float p, boolean failed, List<Continuation> continuations) {}

    /**
     * One continuation of a branched prefix.
     *
     * @param answer  the extracted answer of the whole branched response (null if none)
     * @param correct the verifier's verdict against the gold answer
     * @param tokens  tokens generated after the alternative (after the budget cut)
     */
    public record Continuation(String answer, boolean correct, int tokens) {}
}
