package dev.linchpin.verify;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The verifier's GSM8K extraction against lm-evaluation-harness's gsm8k filters, on 334 varied responses
 * (tests/fixtures/verify/gsm8k_lm_eval.json, made by make_lm_eval_fixtures.py with lm-eval 0.4.13's own
 * RegexFilter/TakeFirstFilter and exact_match, configured from its gsm8k.yaml):
 * <ul>
 *   <li>"strict-match" ({@code #### N}, first) against Linchpin's {@link ExtractionRule#GSM8K_STRICT} alone;
 *   <li>"flexible-extract" (the last number-like run) against {@link ExtractionRule#FLEXIBLE_LAST_NUMBER} alone;
 *   <li>lm-eval's exact_match verdicts against {@link Verifier}'s with that one rule;
 *   <li>Linchpin's default verifier (all rules) accepts every response lm-eval's strict-match accepts.
 * </ul>
 * Extractions are compared after lm-eval's own answer normalisation (the metric's regexes_to_ignore and
 * ignore_case, read from the fixture), since that is what decides lm-eval's score. Every other difference
 * must be one of the deliberate ones in {@link Difference}, each of which occurs in the corpus.
 */
class VerifierVsLmEvalTest {
    /** The deliberate differences, with the reason for each. */
    enum Difference {
        /**
         * lm-eval's pattern matched text with no digit ("#### .", "...", "$$"); Linchpin never takes that for
         * an answer: strict-match looks at the next "####", flexible-extract at the previous number.
         */
        NO_DIGIT,
        /**
         * A run of digits with several dots ("1.2.3", "1.000.000"): lm-eval returns the whole run, which is no
         * number; Linchpin reads the last well-formed number in it.
         */
        SEVERAL_DOTS,
        /**
         * The same number written differently ("72.0" for 72, "07", ".5" for 0.5, "7.50", "-0"): Linchpin
         * compares values exactly ({@link AnswerEquivalence}), lm-eval's exact_match compares strings.
         */
        SAME_VALUE_OTHER_STRING,
        /**
         * Commas that are not thousands separators ("1,2,3" for gold 123): lm-eval deletes every comma before
         * comparing, so a list of digits passes for a number; Linchpin reads a comma as a thousands separator
         * only before a group of three digits.
         */
        COMMA_NOT_THOUSANDS
    }

    private static final Pattern SEVERAL_DOTS = Pattern.compile("\\d*\\.\\d*\\.");
    private static final Pattern COMMA_NOT_THOUSANDS = Pattern.compile("\\d,(?!\\d{3}(?!\\d))");
    private record Case(String response, String gold, String strict, boolean strictCorrect, String flexible, boolean flexibleCorrect) {}

    private static List<Case> cases;
    private static List<Pattern> ignore;
    private static boolean ignoreCase;

    @BeforeAll
    static void load() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Path.of("tests/fixtures/verify/gsm8k_lm_eval.json").toFile());
        ignore = new ArrayList<>();
        for (JsonNode r : root.get("exact_match").get("regexes_to_ignore")) ignore.add(Pattern.compile(r.asText()));
        ignoreCase = root.get("exact_match").get("ignore_case").asBoolean();
        assertTrue(!root.get("exact_match").get("ignore_punctuation").asBoolean(), "the fixture's metric ignores no punctuation");
        cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            cases.add(new Case(c.get("response").asText(), c.get("gold").asText(), invalidToNull(c.get("strict").asText()),
                    c.get("strict_exact_match").asInt() == 1, invalidToNull(c.get("flexible").asText()),
                    c.get("flexible_exact_match").asInt() == 1));
        }
        assertTrue(cases.size() >= 300, "a few hundred responses");
    }

    private static String invalidToNull(String s) {
        return s.equals("[invalid]") ? null : s;
    }

    /** lm-eval's exact_match preprocessing (exact_match_hf_evaluate): each ignore regex removed, then lower case. */
    private static String lmEvalNormalize(String s) {
        if (s == null) return null;
        for (Pattern p : ignore) s = p.matcher(s).replaceAll("");
        return ignoreCase ? s.toLowerCase(Locale.ROOT) : s;
    }

    private static Difference extractionDifference(String linchpin, String lmEval) {
        if (java.util.Objects.equals(lmEvalNormalize(linchpin), lmEvalNormalize(lmEval))) return null;
        if (lmEval != null && lmEval.chars().noneMatch(Character::isDigit)) return Difference.NO_DIGIT;
        if (lmEval != null && SEVERAL_DOTS.matcher(lmEval).find()) return Difference.SEVERAL_DOTS;
        return null;
    }

    private static boolean sameValue(String a, String b) {
        try {
            return a != null && b != null && new BigDecimal(a).compareTo(new BigDecimal(b)) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private final Map<Difference, Integer> seen = new EnumMap<>(Difference.class);

    private void compare(String title, ExtractionRule rule, java.util.function.Function<Case, String> lmEvalAnswer,
            java.util.function.Predicate<Case> lmEvalCorrect) {
        AnswerExtractor extractor = new AnswerExtractor(EnumSet.of(rule));
        Verifier verifier = new Verifier(extractor);
        int sameExtraction = 0, sameVerdict = 0;
        for (Case c : cases) {
            Extraction e = extractor.extract(c.response());
            String ours = e.found() ? e.answer() : null, theirs = lmEvalAnswer.apply(c);
            boolean agrees = java.util.Objects.equals(lmEvalNormalize(ours), lmEvalNormalize(theirs));
            Difference why = agrees ? null : extractionDifference(ours, theirs);
            if (!agrees && why == null) {
                fail(title + ": Linchpin extracted " + q(ours) + ", lm-eval " + q(theirs) + " from " + q(c.response()));
            }
            if (agrees) sameExtraction++;
            else seen.merge(why, 1, Integer::sum);

            boolean ourVerdict = verifier.verify(c.response(), c.gold()).correct(), theirVerdict = lmEvalCorrect.test(c);
            if (ourVerdict == theirVerdict) {
                sameVerdict++;
                continue;
            }
            if (why == null && ourVerdict && sameValue(lmEvalNormalize(theirs), c.gold())) why = Difference.SAME_VALUE_OTHER_STRING;
            if (why == null && theirVerdict && theirs != null && COMMA_NOT_THOUSANDS.matcher(theirs).find()) why = Difference.COMMA_NOT_THOUSANDS;
            if (why == null) {
                fail(title + ": Linchpin says " + (ourVerdict ? "correct" : "wrong") + ", lm-eval's exact_match "
                        + (theirVerdict ? "correct" : "wrong") + " (gold " + c.gold() + ", extracted " + q(ours) + " vs " + q(theirs)
                        + ") for " + q(c.response()));
            }
            if (why == Difference.SAME_VALUE_OTHER_STRING || why == Difference.COMMA_NOT_THOUSANDS) seen.merge(why, 1, Integer::sum);
        }
        System.out.printf("%s: same extraction on %d of %d responses, same verdict on %d%n", title, sameExtraction, cases.size(), sameVerdict);
        assertTrue(sameExtraction >= cases.size() * 9 / 10, title + ": agreement " + sameExtraction + "/" + cases.size());
    }

    @Test
    void extractionsAndVerdictsAgreeWithLmEvalExceptTheListedDifferences() {
        compare("strict-match", ExtractionRule.GSM8K_STRICT, Case::strict, Case::strictCorrect);
        compare("flexible-extract", ExtractionRule.FLEXIBLE_LAST_NUMBER, Case::flexible, Case::flexibleCorrect);
        System.out.println("deliberate differences: " + seen);
        for (Difference d : Difference.values()) {
            assertTrue(seen.getOrDefault(d, 0) > 0, d + " never occurs in the corpus: drop it from the list");
        }
    }

    @Test
    void theDefaultVerifierAcceptsWhatStrictMatchAccepts() {
        Verifier all = new Verifier();
        int strictCorrect = 0, defaultCorrect = 0, flexibleCorrect = 0;
        for (Case c : cases) {
            boolean ours = all.verify(c.response(), c.gold()).correct();
            if (c.strictCorrect()) {
                strictCorrect++;
                if (COMMA_NOT_THOUSANDS.matcher(c.strict()).find()) continue;   // deliberate, see Difference
                assertTrue(ours, "lm-eval strict-match accepts, Linchpin's default verifier rejects: " + q(c.response()) + " gold " + c.gold());
            }
            if (c.flexibleCorrect()) flexibleCorrect++;
            if (ours) defaultCorrect++;
        }
        System.out.printf("correct: lm-eval strict-match %d, flexible-extract %d, Linchpin default verifier %d (of %d)%n",
                strictCorrect, flexibleCorrect, defaultCorrect, cases.size());
        assertTrue(defaultCorrect >= strictCorrect, "the default verifier accepts at least what strict-match accepts");
    }

    private static String q(String s) {
        return s == null ? "nothing" : '"' + s.replace("\n", "\\n") + '"';
    }
}
