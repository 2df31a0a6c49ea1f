package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import dev.linchpin.cli.Progress;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import dev.linchpin.model.ModelConfig;
import dev.linchpin.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mining on the trained embedded default: masks deterministic run to run, a critical
 * fraction strictly between 0 and 50 %, and the brute-force cross-check with the Java model on a few
 * examples. The default is trained on first use (about 5 minutes on 2 cores) and cached after that.
 */
class MiningOnEmbeddedDefaultTest {
    static final int EXAMPLES = 12;

    @TempDir
    static Path scratch;
    static Path model, data, masks;

    @BeforeAll
    static void mineOnce() throws IOException {
        model = EmbeddedDefault.ensure(DefaultConfig.standard(), Progress.auto());
        data = scratch.resolve("test-head.jsonl");
        List<String> lines = Files.readAllLines(model.resolve("data/test.jsonl"), StandardCharsets.UTF_8);
        Files.write(data, lines.subList(0, EXAMPLES), StandardCharsets.UTF_8);
        masks = scratch.resolve("masks.jsonl");
        mine(masks);
    }

    static void mine(Path out) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"mine", "--model", model.toString(), "--data", data.toString(), "--out",
                out.toString(), "--batch-size", "4", "--threads", "2", "--progress", "log"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void masksAreDeterministicRunToRun() throws IOException {
        Path again = scratch.resolve("masks-again.jsonl");
        mine(again);
        assertArrayEquals(Files.readAllBytes(masks), Files.readAllBytes(again));
    }

    @Test
    void aMinorityOfTokensIsCriticalButSomeAre() throws IOException {
        List<MaskRecord> records = MiningEndToEndTest.read(masks);
        long kept = records.stream().filter(MaskRecord::kept).count();
        long positions = records.stream().mapToLong(r -> r.positions().size()).sum();
        long critical = records.stream().mapToLong(r -> r.critical().size()).sum();
        double fraction = positions == 0 ? Double.NaN : (double) critical / positions;
        System.out.printf("embedded default: %d/%d kept, %d of %d positions critical (%.1f%%)%n", kept, records.size(),
                critical, positions, 100 * fraction);
        assertTrue(kept > 0, "the default solves some test questions");
        assertTrue(fraction > 0 && fraction < 0.5, "critical fraction " + fraction);
    }

    @Test
    void branchesMatchAnIndependentRebuildWithTheJavaModel() throws IOException {
        Set<Long> eos = new LinkedHashSet<>();
        try (Tokenizer tok = Tokenizer.load(model)) {
            eos.addAll(tok.eosTokenIds());
        }
        eos.addAll(ModelConfig.fromJson(model.resolve("config.json")).eosTokenIds());
        MiningOptions defaults = MiningOptions.defaults();
        int[] counts = MiningEndToEndTest.bruteForceCheck(model, data, MiningEndToEndTest.read(masks),
                eos.stream().mapToLong(Long::longValue).toArray(), defaults.maxNewTokens(), defaults, 2);
        assertTrue(counts[0] > 0, "checked some positions");
    }
}
