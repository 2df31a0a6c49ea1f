package dev.linchpin.data;

import java.util.List;

/**
 * One generated word problem.
 *
 * @param id            "synthetic-SPLIT-NNNNNN"
 * @param question      the question text (~30–60 words for the standard difficulty)
 * @param solution      chain of thought, one line per step, ending in GSM8K's {@code #### N}
 * @param boxedSolution the same chain of thought ending in MATH's {@code $\boxed{N}$}
 * @param answer        the final answer, a non-negative integer
 * @param steps         the arithmetic of each solution line, in order
 * @param kind          what is counted
 * @param template      which phrasing variant (0 or 1) the problem mostly uses
 */
public record SyntheticProblem(String id, String question, String solution, String boxedSolution, int answer,
                               List<ArithmeticStep> steps, EntityKind kind, int template) {
    public SyntheticProblem {
        steps = List.copyOf(steps);
    }
}
