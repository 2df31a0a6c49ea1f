package dev.linchpin.data;

/** One step of a synthetic problem: {@code left op right = result}, as written in its solution line. */
public record ArithmeticStep(int left, Operation op, int right, int result) {
}
