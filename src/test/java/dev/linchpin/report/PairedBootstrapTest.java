package dev.linchpin.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@link PairedBootstrap} against tests/fixtures/bootstrap/bootstrap.json, made by make_bootstrap.py: a numpy
 * float64 re-implementation (with java.util.Random's specified algorithm), and the exact bootstrap
 * distribution of a tiny case enumerated in full.
 */
class PairedBootstrapTest {
    private static final Path FIXTURE = Path.of("tests/fixtures/bootstrap/bootstrap.json");

    @Test
    void matchesTheNumpyReimplementation() throws Exception {
        JsonNode root = new ObjectMapper().readTree(FIXTURE.toFile());
        for (JsonNode c : root.get("cases")) {
            PairedBootstrap.Interval i = PairedBootstrap.of(matrix(c.get("a")), matrix(c.get("b")), c.get("replicates").asInt(),
                    c.get("rng_seed").asLong());
            String name = c.get("name").asText();
            assertEquals(c.get("mean").asDouble(), i.mean(), 1e-12, name);
            assertEquals(c.get("lo").asDouble(), i.lo(), 1e-12, name);
            assertEquals(c.get("hi").asDouble(), i.hi(), 1e-12, name);
            assertTrue(i.lo() <= i.mean() && i.mean() <= i.hi(), name);
        }
    }

    @Test
    void percentilesApproachTheExactBootstrapDistribution() throws Exception {
        JsonNode exact = new ObjectMapper().readTree(FIXTURE.toFile()).get("exact");
        double[][] d = matrix(exact.get("d"));
        PairedBootstrap.Interval i = PairedBootstrap.of(d, new double[d.length][d[0].length], 200_000, 5);
        assertEquals(exact.get("q025").asDouble(), i.lo(), 1e-12);
        assertEquals(exact.get("q975").asDouble(), i.hi(), 1e-12);
    }

    @Test
    void sameInputsSameIntervalAndIdenticalModelsGiveZero() {
        double[][] a = {{1, 0, 1, 1}, {0, 0, 1, 1}};
        assertEquals(PairedBootstrap.of(a, new double[][] {{0, 0, 1, 0}, {1, 0, 1, 0}}),
                PairedBootstrap.of(a, new double[][] {{0, 0, 1, 0}, {1, 0, 1, 0}}));
        PairedBootstrap.Interval zero = PairedBootstrap.of(a, a);
        assertEquals(0, zero.mean());
        assertEquals(0, zero.lo());
        assertEquals(0, zero.hi());
        assertFalse(zero.excludesZero());
    }

    @Test
    void meanAndSampleStd() {
        double[] ms = PairedBootstrap.meanStd(new double[] {0.5, 0.6, 0.7});
        assertEquals(0.6, ms[0], 1e-15);
        assertEquals(0.1, ms[1], 1e-15);   // sqrt(((0.1)^2 + 0 + (0.1)^2) / 2)
        assertEquals(0, PairedBootstrap.meanStd(new double[] {0.3})[1]);
    }

    @Test
    void refusesMismatchedOrNonFiniteInput() {
        assertThrows(IllegalArgumentException.class, () -> PairedBootstrap.of(new double[][] {{1}}, new double[][] {{1}, {0}}));
        assertThrows(IllegalArgumentException.class, () -> PairedBootstrap.of(new double[][] {{1, 0}}, new double[][] {{1}}));
        assertThrows(IllegalArgumentException.class, () -> PairedBootstrap.of(new double[][] {{Double.NaN}}, new double[][] {{1}}));
    }

    private static double[][] matrix(JsonNode rows) {
        double[][] m = new double[rows.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new double[rows.get(i).size()];
            for (int j = 0; j < m[i].length; j++) m[i][j] = rows.get(i).get(j).asDouble();
        }
        return m;
    }
}
