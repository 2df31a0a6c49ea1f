package dev.linchpin.data;

/** The four operations of the synthetic task; every result is a non-negative integer. */
public enum Operation {
    ADD('+'), SUBTRACT('-'), MULTIPLY('*'), DIVIDE('/');

    private final char symbol;

    Operation(char symbol) {
        this.symbol = symbol;
    }

    /** The symbol written in solutions: {@code + - * /} (ASCII, so a tokenizer needs no Unicode). */
    public char symbol() {
        return symbol;
    }

    /** {@code a op b}; division must be exact. */
    public int apply(int a, int b) {
        return switch (this) {
            case ADD -> Math.addExact(a, b);
            case SUBTRACT -> Math.subtractExact(a, b);
            case MULTIPLY -> Math.multiplyExact(a, b);
            case DIVIDE -> {
                if (b == 0 || a % b != 0) {
                    throw new ArithmeticException(a + " / " + b + " is not an exact integer division");
                }
                yield a / b;
            }
        };
    }
}
