package dev.linchpin.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes synthetic problems as JSONL in the field layout of the real data sets. */
public final class SyntheticJsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SyntheticJsonl() {
    }

    /** GSM8K layout (openai/grade-school-math): {@code {"question": ..., "answer": "...\n#### N"}} per line. */
    public static void writeGsm8k(List<SyntheticProblem> problems, Path file) throws IOException {
        write(file, problems, p -> {
            ObjectNode o = JSON.createObjectNode();
            o.put("question", p.question());
            o.put("answer", p.solution());
            return o;
        });
    }

    /**
     * MATH layout (hendrycks/math): {@code {"problem", "level", "type", "solution"}}, the solution ending
     * in {@code $\boxed{N}$}; "level" is "Level S" with S the number of steps, "type" is "Synthetic Arithmetic".
     */
    public static void writeMath(List<SyntheticProblem> problems, Path file) throws IOException {
        write(file, problems, p -> {
            ObjectNode o = JSON.createObjectNode();
            o.put("problem", p.question());
            o.put("level", "Level " + p.steps().size());
            o.put("type", "Synthetic Arithmetic");
            o.put("solution", p.boxedSolution());
            return o;
        });
    }

    private static void write(Path file, List<SyntheticProblem> problems,
                              java.util.function.Function<SyntheticProblem, ObjectNode> record) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (SyntheticProblem p : problems) {
                w.write(JSON.writeValueAsString(record.apply(p)));
                w.write('\n');
            }
        }
    }
}
