package dev.linchpin.verify;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An exact rational number read from a normalised answer: an integer, a decimal or a {@code \frac{a}{b}}. */
record Rational(BigInteger num, BigInteger den) {
    /** Longer strings are not numbers we compare (keeps hostile inputs from costing big-integer work). */
    private static final int MAX_CHARS = 200;
    private static final Pattern DECIMAL = Pattern.compile("-?(?:\\d+(?:\\.\\d+)?|\\.\\d+)");
    private static final Pattern FRAC = Pattern.compile(
            "(-?)\\\\frac\\{(-?(?:\\d+(?:\\.\\d+)?|\\.\\d+))\\}\\{(-?(?:\\d+(?:\\.\\d+)?|\\.\\d+))\\}");
    private static final BigInteger HUNDRED = BigInteger.valueOf(100);

    Rational {
        if (den.signum() == 0) {
            throw new ArithmeticException("zero denominator");
        }
        if (den.signum() < 0) {
            num = num.negate();
            den = den.negate();
        }
        BigInteger g = num.gcd(den);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            num = num.divide(g);
            den = den.divide(g);
        }
    }

    /** The value of {@code s}, or null when it is not an integer, decimal or numeric {@code \frac}. */
    static Rational parse(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_CHARS) {
            return null;
        }
        if (DECIMAL.matcher(s).matches()) {
            return ofDecimal(s);
        }
        Matcher m = FRAC.matcher(s);
        if (m.matches()) {
            Rational a = ofDecimal(m.group(2)), b = ofDecimal(m.group(3));
            if (b.num.signum() == 0) {
                return null;
            }
            Rational q = new Rational(a.num.multiply(b.den), a.den.multiply(b.num));
            return m.group(1).isEmpty() ? q : new Rational(q.num.negate(), q.den);
        }
        return null;
    }

    private static Rational ofDecimal(String s) {
        BigDecimal d = new BigDecimal(s);
        if (d.scale() <= 0) {
            return new Rational(d.toBigIntegerExact(), BigInteger.ONE);
        }
        return new Rational(d.unscaledValue(), BigInteger.TEN.pow(d.scale()));
    }

    Rational percentOf() {
        return new Rational(num, den.multiply(HUNDRED));
    }
}
