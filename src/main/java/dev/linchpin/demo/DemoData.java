package dev.linchpin.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.data.Difficulty;
import dev.linchpin.data.SyntheticJsonl;
import dev.linchpin.data.SyntheticProblem;
import dev.linchpin.data.SyntheticTask;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The demo's target data: questions the base model never trained on, from a related but harder setting
 * of the same generator ({@link DemoPlan#targetDifficulty()}), so that the base starts with headroom.
 *
 * <p>Four splits, written as GSM8K JSONL under {@code data/} of the run directory:
 * <ul>
 *   <li>{@code mine.jsonl}: the questions mined; D_correct (what every objective trains on) comes from them;</li>
 *   <li>{@code val.jsonl}: the split the learning rate was chosen on (never trained on, not reported);</li>
 *   <li>{@code test.jsonl}: the reported in-distribution split;</li>
 *   <li>{@code ood.jsonl}: the base default's own OOD split (longer problems, larger numbers), copied.</li>
 * </ul>
 * Disjointness: {@link SyntheticTask} keeps its splits disjoint by question text; in addition every
 * question that also appears in any split of the base's data (train, test or OOD) is dropped, so no
 * mined, validation or test question was ever seen by the base. The generator is deterministic, so
 * the same plan gives byte-identical files.
 */
public final class DemoData {
    static final String MINE = "data/mine.jsonl", VAL = "data/val.jsonl", TEST = "data/test.jsonl", OOD = "data/ood.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DemoData() {}

    /** The split files, relative to the run directory. */
    public record Files4(Path mine, Path val, Path test, Path ood) {}

    /**
     * Writes the four splits for {@code plan} into {@code runDir}, reading the base's questions from
     * {@code baseDir/data/{train,test,ood}.jsonl}.
     *
     * @return the files and how many generated questions were dropped because the base had them
     */
    public static Written write(DemoPlan plan, Path baseDir, Path runDir) throws IOException {
        Set<String> baseQuestions = new HashSet<>();
        for (String split : List.of("train", "test", "ood")) baseQuestions.addAll(questions(baseDir.resolve("data/" + split + ".jsonl")));
        Generated g = generate(plan.dataSeed(), plan.targetDifficulty(), plan.mineQuestions() + plan.valQuestions(), plan.testQuestions(),
                baseQuestions);
        Path mine = runDir.resolve(MINE), val = runDir.resolve(VAL), test = runDir.resolve(TEST), ood = runDir.resolve(OOD);
        SyntheticJsonl.writeGsm8k(g.train().subList(0, plan.mineQuestions()), mine);
        SyntheticJsonl.writeGsm8k(g.train().subList(plan.mineQuestions(), g.train().size()), val);
        SyntheticJsonl.writeGsm8k(g.test(), test);
        Files.createDirectories(ood.getParent());
        List<String> oodLines = new ArrayList<>();
        for (String line : Files.readAllLines(baseDir.resolve("data/ood.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank() && oodLines.size() < plan.oodQuestions()) oodLines.add(line);
        }
        dev.linchpin.io.AtomicFiles.writeString(ood, String.join("\n", oodLines) + "\n");
        return new Written(new Files4(mine, val, test, ood), g.dropped());
    }

    /** What {@link #write} produced; {@code droppedAsSeenByBase} generated questions were in the base's data. */
    public record Written(Files4 files, int droppedAsSeenByBase) {}

    /** Generated train and test problems with none of {@code exclude}'s questions. */
    record Generated(List<SyntheticProblem> train, List<SyntheticProblem> test, int dropped) {}

    /**
     * {@code trainSize} and {@code testSize} problems of {@code difficulty} whose questions are not in
     * {@code exclude}. Generates with growing slack until enough survive; the result depends only on the
     * arguments (the generator's splits are prefix-stable in their size, de-duplication aside).
     */
    static Generated generate(long seed, Difficulty difficulty, int trainSize, int testSize, Set<String> exclude) {
        for (double slack = 1.25; ; slack *= 1.5) {
            int tr = (int) Math.ceil(trainSize * slack) + 8, te = (int) Math.ceil(testSize * slack) + 8;
            SyntheticTask.Splits s = new SyntheticTask(seed, difficulty, difficulty).generate(tr, te, 0);
            List<SyntheticProblem> train = new ArrayList<>(), test = new ArrayList<>();
            int dropped = 0;
            for (SyntheticProblem p : s.test()) {
                if (test.size() == testSize) break;
                if (exclude.contains(p.question())) dropped++; else test.add(p);
            }
            for (SyntheticProblem p : s.train()) {
                if (train.size() == trainSize) break;
                if (exclude.contains(p.question())) dropped++; else train.add(p);
            }
            if (train.size() == trainSize && test.size() == testSize) return new Generated(train, test, dropped);
            if (slack > 20) throw new IllegalStateException("cannot draw " + trainSize + " + " + testSize + " questions of " + difficulty
                    + " that the base has not seen");
        }
    }

    /** The "question" field of every line of a GSM8K JSONL file. */
    static List<String> questions(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        int line = 0;
        for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line++;
            if (s.isBlank()) continue;
            JsonNode q;
            try {
                q = JSON.readTree(s).get("question");
            } catch (IOException e) {
                throw new IOException(file + ":" + line + ": not JSON: " + e.getMessage(), e);
            }
            if (q == null || !q.isTextual()) throw new IOException(file + ":" + line + ": no \"question\" string");
            out.add(q.asText());
        }
        return out;
    }
}
