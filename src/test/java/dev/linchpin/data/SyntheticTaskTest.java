package dev.linchpin.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.data.SyntheticTask.Split;
import dev.linchpin.data.SyntheticTask.Splits;
import dev.linchpin.verify.AnswerExtractor;
import dev.linchpin.verify.Verdict;
import dev.linchpin.verify.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic task, checked by re-reading its text, never by trusting the generator's own records. */
class SyntheticTaskTest {
    private static final int TRAIN = 1000, TEST = 200, OOD = 200;
    private static Splits splits;

    @BeforeAll
    static void generate() {
        splits = new SyntheticTask(42).generate(TRAIN, TEST, OOD);
    }

    private static List<SyntheticProblem> all() {
        List<SyntheticProblem> out = new ArrayList<>(splits.train());
        out.addAll(splits.test());
        out.addAll(splits.ood());
        return out;
    }

    @Test
    void sameSeedGivesByteIdenticalFilesAndAnotherSeedDoesNot(@TempDir Path tmp) throws IOException {
        new SyntheticTask(9).writeAll(tmp.resolve("a"), 300, 50, 50);
        new SyntheticTask(9).writeAll(tmp.resolve("b"), 300, 50, 50);
        new SyntheticTask(10).writeAll(tmp.resolve("c"), 300, 50, 50);
        for (String format : List.of("gsm8k", "math")) {
            for (Split s : Split.values()) {
                Path rel = Path.of(format, s.fileStem() + ".jsonl");
                assertEquals(-1L, Files.mismatch(tmp.resolve("a").resolve(rel), tmp.resolve("b").resolve(rel)), rel.toString());
                assertNotEquals(-1L, Files.mismatch(tmp.resolve("a").resolve(rel), tmp.resolve("c").resolve(rel)), rel.toString());
            }
        }
    }

    @Test
    void splitsHaveTheRequestedSizesAndDisjointQuestions() {
        assertEquals(TRAIN, splits.train().size());
        assertEquals(TEST, splits.test().size());
        assertEquals(OOD, splits.ood().size());
        Set<String> seen = new HashSet<>();
        for (SyntheticProblem p : all()) {
            assertTrue(seen.add(p.question()), "question appears twice: " + p.question());
        }
    }

    /** "a op b = c" in a solution line; the test's own tiny parser and evaluator. */
    private static final Pattern EQUATION = Pattern.compile("(\\d+) ([-+*/]) (\\d+) = (\\d+)");
    private static final Pattern FIRST_NUMBER = Pattern.compile("\\d+");

    private static long evaluate(long a, char op, long b, String where) {
        return switch (op) {
            case '+' -> a + b;
            case '-' -> a - b;
            case '*' -> a * b;
            case '/' -> {
                assertTrue(b != 0 && a % b == 0, "inexact division " + a + " / " + b + " in " + where);
                yield a / b;
            }
            default -> throw new AssertionError("operator " + op + " in " + where);
        };
    }

    @Test
    void everySolutionLineIsCorrectArithmeticAndTheChainEndsInTheAnswer() {
        for (SyntheticProblem p : all()) {
            String[] lines = p.solution().split("\n");
            assertTrue(lines[lines.length - 1].matches("#### \\d+"), p.solution());
            long answer = Long.parseLong(lines[lines.length - 1].substring(5));
            Matcher q = FIRST_NUMBER.matcher(p.question());
            assertTrue(q.find(), p.question());
            long state = Long.parseLong(q.group());
            for (int i = 0; i < lines.length - 1; i++) {
                Matcher m = EQUATION.matcher(lines[i]);
                assertTrue(m.find(), "no equation in line: " + lines[i]);
                long a = Long.parseLong(m.group(1)), b = Long.parseLong(m.group(3)), c = Long.parseLong(m.group(4));
                char op = m.group(2).charAt(0);
                assertFalse(m.find(), "two equations in line: " + lines[i]);
                assertEquals(evaluate(a, op, b, lines[i]), c, lines[i]);
                assertEquals(state, a, "line does not continue from the previous result: " + lines[i] + "\n" + p.solution());
                assertTrue(c >= 0, "negative intermediate: " + lines[i]);
                // the operand of this step is stated in the question
                assertTrue(Pattern.compile("\\b" + b + "\\b").matcher(p.question()).find(), b + " missing from question " + p.question());
                state = c;
            }
            assertEquals(state, answer, p.solution());
            assertEquals(answer, p.answer());
            assertTrue(answer >= 0);
        }
    }

    @Test
    void verifierAcceptsEveryGoldAndRejectsAPerturbedOne() {
        Verifier verifier = new Verifier();
        for (SyntheticProblem p : all()) {
            String gold = AnswerExtractor.goldFromGsm8kAnswer(p.solution());
            assertTrue(verifier.verify(p.solution(), gold).correct(), p.solution());
            String boxedGold = AnswerExtractor.goldFromMathSolution(p.boxedSolution());
            assertEquals(gold, boxedGold);
            assertTrue(verifier.verify(p.boxedSolution(), boxedGold).correct(), p.boxedSolution());

            String wrong = Long.toString(Long.parseLong(gold) + 1);
            String perturbed = p.solution().substring(0, p.solution().lastIndexOf("#### ")) + "#### " + wrong;
            Verdict v = verifier.verify(perturbed, gold);
            assertFalse(v.correct(), perturbed);
            assertEquals(wrong, v.extracted());
            String perturbedBoxed = p.boxedSolution().replace("\\boxed{" + gold + "}", "\\boxed{" + wrong + "}");
            assertFalse(verifier.verify(perturbedBoxed, gold).correct(), perturbedBoxed);
        }
    }

    @Test
    void everyTokenIsInTheVocabularyAndTheVocabularyIsSmall() {
        SortedSet<String> vocab = SyntheticTask.vocabulary();
        assertTrue(vocab.size() < 400, "vocabulary has " + vocab.size() + " entries");
        Set<String> used = new HashSet<>();
        for (SyntheticProblem p : all()) {
            for (String text : List.of(p.question(), p.solution(), p.boxedSolution())) {
                for (String token : SyntheticTask.tokens(text)) {
                    assertTrue(vocab.contains(token), "'" + token + "' not in vocabulary, from: " + text);
                    used.add(token);
                }
            }
        }
        // the vocabulary is not padded with words that never occur (a few rare ones may be missed by chance)
        assertTrue(used.size() > 0.9 * vocab.size(), "used " + used.size() + " of " + vocab.size());
    }

    /** Statistics of a split, recomputed from the text. */
    private record Stats(int minSteps, int maxSteps, double meanSteps, long maxNumber, double meanQuestionWords,
                         int maxQuestionWords, Set<Character> ops, Set<EntityKind> kinds, Set<Integer> templates) {
        static Stats of(List<SyntheticProblem> ps) {
            int minS = Integer.MAX_VALUE, maxS = 0, maxW = 0;
            long sumS = 0, sumW = 0, maxN = 0;
            Set<Character> ops = new HashSet<>();
            Set<EntityKind> kinds = EnumSet.noneOf(EntityKind.class);
            Set<Integer> templates = new HashSet<>();
            for (SyntheticProblem p : ps) {
                int steps = 0;
                Matcher m = EQUATION.matcher(p.solution());
                while (m.find()) {
                    steps++;
                    ops.add(m.group(2).charAt(0));
                    for (int g : new int[] {1, 3, 4}) maxN = Math.max(maxN, Long.parseLong(m.group(g)));
                }
                minS = Math.min(minS, steps);
                maxS = Math.max(maxS, steps);
                sumS += steps;
                int words = p.question().split("\\s+").length;
                sumW += words;
                maxW = Math.max(maxW, words);
                kinds.add(p.kind());
                templates.add(p.template());
            }
            return new Stats(minS, maxS, (double) sumS / ps.size(), maxN, (double) sumW / ps.size(), maxW, ops, kinds, templates);
        }
    }

    @Test
    void statisticsPerDifficulty() {
        Stats train = Stats.of(splits.train()), test = Stats.of(splits.test()), ood = Stats.of(splits.ood());
        System.out.println("synthetic task statistics (seed 42):\n  train " + train + "\n  test  " + test + "\n  ood   " + ood);
        Difficulty std = Difficulty.standard(), hard = Difficulty.outOfDistribution();
        for (Stats s : List.of(train, test)) {
            assertEquals(std.minSteps(), s.minSteps());
            assertEquals(std.maxSteps(), s.maxSteps());
            assertTrue(s.maxNumber() <= std.maxResult(), s.toString());
        }
        assertEquals(hard.minSteps(), ood.minSteps());
        assertEquals(hard.maxSteps(), ood.maxSteps());
        assertTrue(ood.maxNumber() <= hard.maxResult());
        assertTrue(ood.meanSteps() > train.meanSteps() + 1.5, "OOD has more steps");
        assertTrue(ood.maxNumber() > std.maxResult(), "OOD reaches larger numbers");
        assertEquals(Set.of('+', '-', '*', '/'), train.ops());
        assertEquals(EnumSet.allOf(EntityKind.class), train.kinds());
        assertEquals(Set.of(0, 1), train.templates());
        // short questions for a tiny model: ~30-60 words on average for train/test
        assertTrue(train.meanQuestionWords() >= 20 && train.meanQuestionWords() <= 60, train.toString());
        assertTrue(ood.meanQuestionWords() > train.meanQuestionWords());
    }

    @Test
    void jsonlFilesHaveExactlyTheRealDatasetFields(@TempDir Path tmp) throws IOException {
        new SyntheticTask(3).writeAll(tmp, 20, 5, 5);
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(tmp.resolve("gsm8k/train.jsonl"))) {
            JsonNode o = json.readTree(line);
            Iterator<String> names = o.fieldNames();
            assertEquals(List.of("question", "answer"), List.of(names.next(), names.next()));
            assertFalse(names.hasNext());
            assertTrue(o.get("answer").asText().matches("(?s).*\n#### \\d+"), line);
        }
        for (String line : Files.readAllLines(tmp.resolve("math/ood.jsonl"))) {
            JsonNode o = json.readTree(line);
            assertTrue(o.has("problem") && o.has("solution") && o.has("level") && o.has("type"), line);
            assertTrue(o.get("solution").asText().matches("(?s).*\\$\\\\boxed\\{\\d+\\}\\$\\.$"), line);
        }
    }

    @Test
    void badKnobsAndImpossibleSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Difficulty(0, 3, 10, 2, 100, EnumSet.allOf(Operation.class)));
        assertThrows(IllegalArgumentException.class, () -> new Difficulty(2, 7, 10, 2, 100, EnumSet.allOf(Operation.class)));
        assertThrows(IllegalArgumentException.class, () -> new Difficulty(2, 3, 10, 2, 5, EnumSet.allOf(Operation.class)));
        assertThrows(IllegalArgumentException.class, () -> new Difficulty(2, 3, 10, 2, 100, EnumSet.of(Operation.MULTIPLY)));
        assertThrows(IllegalArgumentException.class, () -> new SyntheticTask(1).generate(-1, 0, 0));
        Difficulty tiny = new Difficulty(1, 1, 1, 2, 2, EnumSet.of(Operation.ADD));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new SyntheticTask(1, tiny, tiny).generate(10_000, 0, 0));
        assertTrue(e.getMessage().contains("distinct"), e.getMessage());
    }

    @Test
    void restrictedOperationsAreRespected() {
        Difficulty addOnly = new Difficulty(3, 3, 9, 2, 50, EnumSet.of(Operation.ADD, Operation.SUBTRACT));
        Splits s = new SyntheticTask(5, addOnly, addOnly).generate(100, 10, 10);
        for (SyntheticProblem p : s.train()) {
            assertFalse(p.solution().contains(" * ") || p.solution().contains(" / "), p.solution());
        }
    }
}
