package dev.linchpin.data;

import dev.linchpin.data.SyntheticTemplates.Activity;
import dev.linchpin.data.SyntheticTemplates.Kind;
import dev.linchpin.data.SyntheticTemplates.Person;
import dev.linchpin.data.SyntheticTemplates.Phrase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A seeded generator of GSM8K-like multi-step arithmetic word problems: the project's embedded,
 * offline default task.
 *
 * <p>A problem tracks one quantity (a person's items, money, or minutes of an activity per weekday)
 * through 1–6 operations. Every intermediate and final value is an integer in [1, maxResult]
 * (subtraction never reaches 0, division is generated only when exact), so <b>the answer is always a
 * positive, hence non-negative, integer</b>. Each solution has one short line per step
 * ("Tom buys 5 more, so he has 3 + 5 = 8 apples.") and ends with {@code #### N}; the MATH-style variant
 * ends with {@code The answer is $\boxed{N}$.} instead.
 *
 * <p>Determinism: {@link java.util.Random}'s algorithm is fixed by its specification, and nothing here
 * depends on hash order, so the same seed, sizes and difficulties give byte-identical JSONL on any JVM.
 * Splits are disjoint by question text: test is drawn first, train skips test questions, OOD skips both.
 */
public final class SyntheticTask {
    private final long seed;
    private final Difficulty standard;
    private final Difficulty ood;

    /** The standard difficulty for train/test and {@link Difficulty#outOfDistribution()} for OOD. */
    public SyntheticTask(long seed) {
        this(seed, Difficulty.standard(), Difficulty.outOfDistribution());
    }

    public SyntheticTask(long seed, Difficulty trainAndTest, Difficulty outOfDistribution) {
        this.seed = seed;
        this.standard = Objects.requireNonNull(trainAndTest, "trainAndTest");
        this.ood = Objects.requireNonNull(outOfDistribution, "outOfDistribution");
    }

    /** The three splits of the task. */
    public enum Split {
        TRAIN, TEST, OOD;

        public String fileStem() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Generated splits. */
    public record Splits(List<SyntheticProblem> train, List<SyntheticProblem> test, List<SyntheticProblem> ood) {
        public Splits {
            train = List.copyOf(train);
            test = List.copyOf(test);
            ood = List.copyOf(ood);
        }

        public List<SyntheticProblem> get(Split split) {
            return switch (split) {
                case TRAIN -> train;
                case TEST -> test;
                case OOD -> ood;
            };
        }
    }

    /**
     * Generates the three splits with disjoint questions.
     *
     * @throws IllegalStateException if the difficulty cannot yield that many distinct questions
     */
    public Splits generate(int trainSize, int testSize, int oodSize) {
        if (trainSize < 0 || testSize < 0 || oodSize < 0) {
            throw new IllegalArgumentException("split sizes must be >= 0, got " + trainSize + "/" + testSize + "/" + oodSize);
        }
        Set<String> seen = new HashSet<>();
        List<SyntheticProblem> test = draw(Split.TEST, standard, testSize, seen);
        List<SyntheticProblem> train = draw(Split.TRAIN, standard, trainSize, seen);
        List<SyntheticProblem> oodSplit = draw(Split.OOD, ood, oodSize, seen);
        return new Splits(train, test, oodSplit);
    }

    /**
     * Writes {@code gsm8k/{train,test,ood}.jsonl} and {@code math/{train,test,ood}.jsonl} under {@code dir}.
     */
    public Splits writeAll(Path dir, int trainSize, int testSize, int oodSize) throws IOException {
        Splits splits = generate(trainSize, testSize, oodSize);
        for (Split s : Split.values()) {
            SyntheticJsonl.writeGsm8k(splits.get(s), dir.resolve("gsm8k").resolve(s.fileStem() + ".jsonl"));
            SyntheticJsonl.writeMath(splits.get(s), dir.resolve("math").resolve(s.fileStem() + ".jsonl"));
        }
        return splits;
    }

    private List<SyntheticProblem> draw(Split split, Difficulty d, int count, Set<String> seen) {
        // One stream per split, so a split's content does not depend on the other splits' sizes except
        // through de-duplication.
        Random rng = new Random(seed * 0x9E3779B97F4A7C15L + split.ordinal() * 0x632BE59BD9B4E019L + 1);
        List<SyntheticProblem> out = new ArrayList<>(count);
        long attempts = 0, maxAttempts = 100L * count + 1000;
        while (out.size() < count) {
            if (++attempts > maxAttempts) {
                throw new IllegalStateException("could not draw " + count + " distinct " + split.fileStem()
                        + " problems from " + d + " (got " + out.size() + "); widen the difficulty");
            }
            String id = String.format(java.util.Locale.ROOT, "synthetic-%s-%06d", split.fileStem(), out.size());
            SyntheticProblem p = one(rng, d, id);
            if (seen.add(p.question())) {
                out.add(p);
            }
        }
        return out;
    }

    /** One problem from {@code rng}. */
    static SyntheticProblem one(Random rng, Difficulty d, String id) {
        EntityKind kind = EntityKind.values()[rng.nextInt(EntityKind.values().length)];
        Kind k = SyntheticTemplates.KINDS.get(kind);
        int template = rng.nextInt(2);
        Person person = pick(rng, SyntheticTemplates.PEOPLE);
        Person friend;
        do {
            friend = pick(rng, SyntheticTemplates.PEOPLE);
        } while (friend == person);
        String items = pick(rng, SyntheticTemplates.ITEMS);
        Activity activity = pick(rng, SyntheticTemplates.ACTIVITIES);
        int stepCount = d.minSteps() + rng.nextInt(d.maxSteps() - d.minSteps() + 1);

        Filler f = new Filler(person, friend, items, activity);
        int x = 1 + rng.nextInt(d.maxOperand());
        List<String> questionParts = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        List<ArithmeticStep> steps = new ArrayList<>();
        questionParts.add(f.fill(k.start(), x, 0, 0, 0, '?', SyntheticTemplates.DAYS.get(0), "", ""));
        for (int s = 0; s < stepCount; s++) {
            Operation op = chooseOperation(rng, d, x);
            int b = chooseOperand(rng, d, op, x);
            int y = op.apply(x, b);
            steps.add(new ArithmeticStep(x, op, b, y));
            String day = SyntheticTemplates.DAYS.get(s + 1), prev = SyntheticTemplates.DAYS.get(s);
            String thing = pick(rng, SyntheticTemplates.THINGS);
            Phrase phrase = k.phrases().get(op).get(template);
            questionParts.add(f.fill(phrase.question(), 0, b, x, y, op.symbol(), day, prev, thing));
            lines.add(f.fill(phrase.solution(), 0, b, x, y, op.symbol(), day, prev, thing));
            x = y;
        }
        String lastDay = SyntheticTemplates.DAYS.get(stepCount);
        questionParts.add(f.fill(k.ask(), 0, 0, 0, 0, '?', lastDay, "", ""));
        String question = String.join(" ", questionParts);
        String body = String.join("\n", lines);
        String solution = body + "\n#### " + x;
        String boxed = body + "\n" + SyntheticTemplates.BOXED_CLOSING.replace("%y%", Integer.toString(x));
        return new SyntheticProblem(id, question, solution, boxed, x, steps, kind, template);
    }

    private static Operation chooseOperation(Random rng, Difficulty d, int x) {
        List<Operation> feasible = new ArrayList<>(4);
        for (Operation op : Operation.values()) { // enum order: deterministic
            if (d.operations().contains(op) && !candidates(d, op, x).isEmpty()) {
                feasible.add(op);
            }
        }
        if (feasible.isEmpty()) {
            throw new IllegalStateException("no operation applies to " + x + " under " + d);
        }
        return feasible.get(rng.nextInt(feasible.size()));
    }

    private static int chooseOperand(Random rng, Difficulty d, Operation op, int x) {
        List<Integer> c = candidates(d, op, x);
        return c.get(rng.nextInt(c.size()));
    }

    /** The operands {@code b} for which {@code x op b} stays an integer in [1, maxResult]. */
    static List<Integer> candidates(Difficulty d, Operation op, int x) {
        List<Integer> out = new ArrayList<>();
        switch (op) {
            case ADD -> {
                for (int b = 1; b <= Math.min(d.maxOperand(), d.maxResult() - x); b++) out.add(b);
            }
            case SUBTRACT -> {
                for (int b = 1; b <= Math.min(d.maxOperand(), x - 1); b++) out.add(b);
            }
            case MULTIPLY -> {
                for (int b = 2; b <= Math.min(d.maxFactor(), d.maxResult() / x); b++) out.add(b);
            }
            case DIVIDE -> {
                for (int b = 2; b <= Math.min(d.maxFactor(), x); b++) if (x % b == 0) out.add(b);
            }
        }
        return out;
    }

    private static <T> T pick(Random rng, List<T> list) {
        return list.get(rng.nextInt(list.size()));
    }

    /**
     * Every word and symbol a generated question or solution can contain, sorted: the words of the
     * templates and word lists (case kept: "Tom", "He"), the digits 0–9, and the punctuation and
     * operator symbols. Numbers are written with these digits, so a word-level tokenizer built from
     * this list (plus splitting numbers into digits) covers the task completely.
     */
    public static SortedSet<String> vocabulary() {
        SortedSet<String> vocab = new TreeSet<>();
        List<String> texts = new ArrayList<>(SyntheticTemplates.allTemplateText());
        for (Person p : SyntheticTemplates.PEOPLE) {
            texts.add(p.name() + " " + p.he() + " " + p.him() + " " + p.his() + " " + capitalize(p.he()) + " " + capitalize(p.his()));
        }
        texts.addAll(SyntheticTemplates.ITEMS);
        texts.addAll(SyntheticTemplates.THINGS);
        texts.addAll(SyntheticTemplates.DAYS);
        for (Activity a : SyntheticTemplates.ACTIVITIES) {
            texts.add(a.verb() + " " + a.base());
        }
        for (String t : texts) {
            vocab.addAll(tokens(t.replaceAll("%[A-Za-z]+%", " ")));
        }
        for (char c = '0'; c <= '9'; c++) {
            vocab.add(String.valueOf(c));
        }
        for (Operation op : Operation.values()) {
            vocab.add(String.valueOf(op.symbol()));
        }
        vocab.add("#");
        vocab.add("?");
        return Collections.unmodifiableSortedSet(vocab);
    }

    /** Splits text into words (letter runs), single digits and single symbols; whitespace is dropped. */
    public static List<String> tokens(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (Character.isLetter(c)) {
                int j = i;
                while (j < text.length() && Character.isLetter(text.charAt(j))) j++;
                out.add(text.substring(i, j));
                i = j;
            } else {
                if (!Character.isWhitespace(c)) out.add(String.valueOf(c));
                i++;
            }
        }
        return out;
    }

    static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Fills placeholders for one problem's person, friend, item and activity. */
    private record Filler(Person person, Person friend, String items, Activity activity) {
        String fill(String template, int a, int b, int x, int y, char op, String day, String prev, String thing) {
            return template
                    .replace("%name%", person.name())
                    .replace("%He%", capitalize(person.he())).replace("%he%", person.he())
                    .replace("%him%", person.him())
                    .replace("%His%", capitalize(person.his())).replace("%his%", person.his())
                    .replace("%friend%", friend.name())
                    .replace("%items%", items).replace("%thing%", thing)
                    .replace("%verb%", activity.verb()).replace("%base%", activity.base())
                    .replace("%day%", day).replace("%prev%", prev)
                    .replace("%a%", Integer.toString(a)).replace("%b%", Integer.toString(b))
                    .replace("%x%", Integer.toString(x)).replace("%y%", Integer.toString(y))
                    .replace("%op%", String.valueOf(op));
        }
    }
}
