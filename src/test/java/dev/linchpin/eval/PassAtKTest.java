package dev.linchpin.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The estimator against hand-computed cases and against exact binomials (BigInteger). */
class PassAtKTest {
    @Test
    void handComputedCases() {
        // n=10, c=3, k=1: 1 - C(7,1)/C(10,1) = 1 - 7/10
        assertEquals(0.3, PassAtK.estimate(10, 3, 1), 1e-15);
        // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
        assertEquals(0.7, PassAtK.estimate(5, 2, 2), 1e-15);
        // n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1 - 3/6
        assertEquals(0.5, PassAtK.estimate(4, 1, 2), 1e-15);
        // n=16, c=1, k=16: the one correct sample is always drawn
        assertEquals(1.0, PassAtK.estimate(16, 1, 16), 0);
        // c=0: never
        assertEquals(0.0, PassAtK.estimate(16, 0, 1), 0);
        assertEquals(0.0, PassAtK.estimate(16, 0, 16), 0);
        // n-c < k: every k-subset has a correct sample
        assertEquals(1.0, PassAtK.estimate(5, 3, 3), 0);
        assertEquals(1.0, PassAtK.estimate(5, 5, 1), 0);
        // k=1 is the fraction correct
        assertEquals(5.0 / 16, PassAtK.estimate(16, 5, 1), 1e-15);
    }

    @Test
    void matchesExactBinomialsOnRandomCases() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int t = 0; t < 2000; t++) {
            int n = 1 + rnd.nextInt(200);
            int c = rnd.nextInt(n + 1);
            int k = 1 + rnd.nextInt(n);
            BigInteger num = binomial(n - c, k), den = binomial(n, k);
            double exact = BigDecimal.ONE.subtract(new BigDecimal(num).divide(new BigDecimal(den), MathContext.DECIMAL128)).doubleValue();
            double got = PassAtK.estimate(n, c, k);
            assertEquals(exact, got, 1e-12, "n=" + n + " c=" + c + " k=" + k);
            assertTrue(got >= 0 && got <= 1);
        }
    }

    @Test
    void rejectsImpossibleCounts() {
        assertThrows(IllegalArgumentException.class, () -> PassAtK.estimate(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> PassAtK.estimate(5, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> PassAtK.estimate(5, 6, 1));
        assertThrows(IllegalArgumentException.class, () -> PassAtK.estimate(5, 2, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PassAtK.estimate(5, 2, 6));
        assertTrue(e.getMessage().contains("k must be in [1, n=5]"), e.getMessage());
    }

    /** C(n, k) exactly; 0 when k > n. */
    static BigInteger binomial(int n, int k) {
        if (k < 0 || k > n) return BigInteger.ZERO;
        BigInteger r = BigInteger.ONE;
        for (int i = 0; i < k; i++) r = r.multiply(BigInteger.valueOf(n - i)).divide(BigInteger.valueOf(i + 1));
        return r;
    }
}
