package dev.linchpin.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class EosTokensTest {
    @Test
    void tokenizerIdsFirstThenTheModelsOthersEachOnce() {
        assertArrayEquals(new long[] {5, 7, 9}, EosTokens.union(List.of(5L, 7L), List.of(7L, 9L)));
        assertArrayEquals(new long[] {3}, EosTokens.union(List.of(), List.of(3L, 3L)));
        assertArrayEquals(new long[] {}, EosTokens.union(List.of(), List.of()));
    }
}
