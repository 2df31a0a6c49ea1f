package dev.linchpin.train;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.LongFunction;
import java.util.regex.Pattern;

/**
 * Per-token weights of every {@link Objective} (see docs/ARCHITECTURE.md, "The methods"). Each builder
 * returns a {@link WeightedExample}; the loss mechanism is the same for all.
 */
public final class Objectives {
    /** A token counts as numeric when its text, stripped of surrounding whitespace, is a number or digits. */
    static final Pattern NUMERIC = Pattern.compile("[-+]?[0-9][0-9.,]*|[-+]?\\.[0-9]+");

    public static final String THINK_OPEN = "<Thinking>", THINK_CLOSE = "</Thinking>", ANSWER_OPEN = "<Answer>", ANSWER_CLOSE = "</Answer>";
    /** The SFTKey tags, in the order {@link dev.linchpin.tokenizer.AddedTokens#extend} adds them when a tokenizer lacks them. */
    public static final List<String> SFTKEY_TAGS = List.of(THINK_OPEN, THINK_CLOSE, ANSWER_OPEN, ANSWER_CLOSE);

    private Objectives() {}

    /** SFT (and DFT): every response token, EOS included, weight 1. */
    public static WeightedExample sft(long[] prompt, long[] response) {
        float[] w = new float[response.length];
        Arrays.fill(w, 1f);
        return new WeightedExample(prompt, response, w);
    }

    /**
     * CFT: the model's own response of a kept record, weight 1 at its critical positions.
     *
     * @param prompt the prompt re-encoded as mining did; its length must equal the record's promptTokens
     * @throws IllegalArgumentException naming the record if it is not kept, the prompt length differs, or a
     *                                  critical position lies outside the response
     */
    public static WeightedExample cft(MaskRecord r, long[] prompt) {
        checkRecord(r, prompt);
        float[] w = new float[r.responseIds().length];
        for (int t : r.critical()) w[t] = 1f;
        return new WeightedExample(prompt, r.responseIds(), w);
    }

    /**
     * Random ablation: per example, as many positions as the record has critical tokens (so the density
     * matches CFT example by example), drawn uniformly without replacement from its response by {@code rnd}.
     */
    public static WeightedExample random(MaskRecord r, long[] prompt, Random rnd) {
        checkRecord(r, prompt);
        int n = r.responseIds().length;
        List<Integer> positions = new ArrayList<>();
        for (int t = 0; t < n; t++) positions.add(t);
        Collections.shuffle(positions, rnd);
        float[] w = new float[n];
        for (int t : positions.subList(0, r.critical().size())) w[t] = 1f;
        return new WeightedExample(prompt, r.responseIds(), w);
    }

    /** Numeric ablation: weight 1 on response tokens whose text ({@code tokenText}) is a number or digits. */
    public static WeightedExample numeric(long[] prompt, long[] response, LongFunction<String> tokenText) {
        float[] w = new float[response.length];
        for (int t = 0; t < response.length; t++) if (NUMERIC.matcher(tokenText.apply(response[t]).strip()).matches()) w[t] = 1f;
        return new WeightedExample(prompt, response, w);
    }

    /**
     * SFTKey targets: a GSM8K solution "reasoning #### N" rewritten as
     * {@code <Thinking>reasoning</Thinking><Answer>N</Answer>} + EOS. The two parts are encoded separately
     * (each tag string joined to its text), so the Answer span is a whole number of tokens. Returns
     * {stage 1: all weights 1, stage 2: weight 1 on the Answer part, tags and EOS included}.
     *
     * @throws IllegalArgumentException if the solution has no "####", or the tokenizer cannot encode
     *                                  the tags (decode(encode(tag)) != tag, e.g. a word-level vocabulary
     *                                  without the tag words); {@code linchpin train} avoids this by adding
     *                                  the tags as tokens first ({@link dev.linchpin.tokenizer.AddedTokens})
     */
    public static WeightedExample[] sftKey(Tokenizer tokenizer, long[] prompt, String solution, long eos) {
        return sftKey(tokenizer, prompt, solution, null, eos);
    }

    /**
     * {@link #sftKey(Tokenizer, long[], String, long)} for a response the verifier accepted: one without a
     * "####" line (the verifier then took its last number) is all reasoning, and its Answer part is
     * {@code verifiedAnswer}, the answer the verifier extracted. A reference solution has no such fallback.
     *
     * @param verifiedAnswer the answer the verifier extracted from {@code solution}, or null to require "####"
     */
    public static WeightedExample[] sftKey(Tokenizer tokenizer, long[] prompt, String solution, String verifiedAnswer, long eos) {
        int cut = solution.lastIndexOf("####");
        if (cut < 0 && (verifiedAnswer == null || verifiedAnswer.isBlank())) {
            throw new IllegalArgumentException("SFTKey needs a GSM8K solution ending in '#### N', got: " + abbreviate(solution));
        }
        String reasoning = cut < 0 ? solution.strip() : solution.substring(0, cut).strip();
        String answer = cut < 0 ? verifiedAnswer.strip() : solution.substring(cut + 4).strip();
        for (String tag : SFTKEY_TAGS) {
            String back = tokenizer.decode(tokenizer.encode(tag, false), false);
            if (!back.equals(tag)) {
                throw new IllegalArgumentException(tokenizer.directory() + ": the tokenizer cannot encode the SFTKey tag " + tag
                        + " (it decodes back as '" + back + "'); add the tags as tokens first (AddedTokens.extend, as linchpin train does)");
            }
        }
        long[] think = tokenizer.encode(THINK_OPEN + reasoning + THINK_CLOSE, false);
        long[] ans = tokenizer.encode(ANSWER_OPEN + answer + ANSWER_CLOSE, false);
        long[] response = new long[think.length + ans.length + 1];
        System.arraycopy(think, 0, response, 0, think.length);
        System.arraycopy(ans, 0, response, think.length, ans.length);
        response[response.length - 1] = eos;
        float[] stage2 = new float[response.length];
        Arrays.fill(stage2, think.length, response.length, 1f);
        return new WeightedExample[] {sft(prompt, response), new WeightedExample(prompt, response, stage2)};
    }

    private static void checkRecord(MaskRecord r, long[] prompt) {
        if (!r.kept()) throw new IllegalArgumentException("record '" + r.id() + "' was not kept (its response was wrong)");
        if (prompt.length != r.promptTokens()) {
            throw new IllegalArgumentException("record '" + r.id() + "': the prompt encodes to " + prompt.length
                    + " tokens, the masks file says " + r.promptTokens() + " (different tokenizer or prompt format than mining?)");
        }
        long[] ids = r.responseIds();
        if (ids == null || ids.length == 0) throw new IllegalArgumentException("record '" + r.id() + "' has no response_ids");
        for (int t : r.critical()) {
            if (t < 0 || t >= ids.length) throw new IllegalArgumentException("record '" + r.id() + "': critical position " + t
                    + " outside its " + ids.length + "-token response");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
