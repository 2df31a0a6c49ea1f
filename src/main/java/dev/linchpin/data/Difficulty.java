package dev.linchpin.data;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The knobs of the synthetic task.
 *
 * @param minSteps   fewest arithmetic steps (solution lines before {@code ####}), ≥ 1
 * @param maxSteps   most steps, ≤ 6 (the TIME template walks Monday..Sunday)
 * @param maxOperand largest starting value and largest added/subtracted operand (operands start at 1)
 * @param maxFactor  largest multiplier/divisor (they start at 2)
 * @param maxResult  largest value any intermediate or final result may take
 * @param operations the operations that may appear
 */
public record Difficulty(int minSteps, int maxSteps, int maxOperand, int maxFactor, int maxResult,
                         Set<Operation> operations) {
    public Difficulty {
        Objects.requireNonNull(operations, "operations");
        if (minSteps < 1 || maxSteps < minSteps || maxSteps > 6) {
            throw new IllegalArgumentException("steps must satisfy 1 <= min <= max <= 6, got " + minSteps + ".." + maxSteps);
        }
        if (maxOperand < 1 || maxFactor < 2 || maxResult < maxOperand) {
            throw new IllegalArgumentException("need maxOperand >= 1, maxFactor >= 2, maxResult >= maxOperand; got "
                    + maxOperand + ", " + maxFactor + ", " + maxResult);
        }
        if (operations.isEmpty() || !(operations.contains(Operation.ADD) || operations.contains(Operation.SUBTRACT))) {
            // + or - keeps every state extendable, so generation never gets stuck
            throw new IllegalArgumentException("operations must include ADD or SUBTRACT, got " + operations);
        }
        operations = Set.copyOf(EnumSet.copyOf(operations));
    }

    /** Train and test: 2–4 steps, operands 1–30, factors 2–5, results ≤ 300, all four operations. */
    public static Difficulty standard() {
        return new Difficulty(2, 4, 30, 5, 300, EnumSet.allOf(Operation.class));
    }

    /** Out of distribution: 5–6 steps, operands 1–99, factors 2–9, results ≤ 999. */
    public static Difficulty outOfDistribution() {
        return new Difficulty(5, 6, 99, 9, 999, EnumSet.allOf(Operation.class));
    }
}
