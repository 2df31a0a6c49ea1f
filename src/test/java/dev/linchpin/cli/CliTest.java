package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MasksJson;
import dev.linchpin.mine.MiningRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line without a model: option parsing, YAML run configs with command-line overrides,
 * and the one-line errors (naming file and line) for bad data, configs and masks files. The data
 * checks run before any model is loaded, so these need no model files.
 */
class CliTest {
    @TempDir
    Path dir;

    record Result(int status, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static MiningRun.Settings parse(YamlDefaults yaml, String... args) {
        CommandLine cl = new CommandLine(new MineCommand());
        if (yaml != null) cl.setDefaultValueProvider(yaml);
        cl.parseArgs(args);
        MineCommand c = cl.getCommand();
        return c.settings();
    }

    @Test
    void yamlConfigSetsDefaultsAndTheCommandLineOverridesThem() throws IOException {
        Path yaml = dir.resolve("run.yaml");
        Files.writeString(yaml, "model: models/tiny\ndata: d.jsonl\nout: m.jsonl\nk: 3\nmax-new-tokens: 128\nshard: 1/4\n"
                + "temperature: 0.7\nrollouts: 4\nfailure-threshold: 0.75\n");
        MiningRun.Settings s = parse(YamlDefaults.load(yaml), "--config", yaml.toString(), "--k", "5", "--out", "x.jsonl");
        assertEquals(5, s.options().k(), "command line wins");
        assertEquals(128, s.options().maxNewTokens(), "from the file");
        assertEquals(Path.of("models/tiny"), s.model());
        assertEquals(Path.of("x.jsonl"), s.out());
        assertEquals(1, s.shard().index());
        assertEquals(4, s.shard().count());
        assertEquals(0.7, s.options().temperature());
        assertEquals(4, s.options().rollouts());
        assertEquals(0.75, s.options().failureThreshold());
        MiningRun.Settings plain = parse(null, "--model", "m", "--data", "d", "--out", "o");
        assertEquals(2, plain.options().k(), "the paper's k");
        assertEquals(1, plain.options().rollouts());
        assertEquals(-1, plain.options().spanEnd());
        assertTrue(plain.options().greedy());
    }

    @Test
    void badConfigsAndOptionsGiveOneLineErrors() throws IOException {
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "model: m\nmax-new-tokenz: 5\n");
        Result r = run("mine", "--config", yaml.toString(), "--data", "d", "--out", "o");
        assertEquals(1, r.status());
        assertTrue(r.err().contains(yaml + ": unknown key 'max-new-tokenz'"), r.err());

        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "k: 2\nmodel: [unclosed\n");
        r = run("mine", "--config", broken.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(broken + ":"), r.err());

        r = run("mine", "--config", dir.resolve("absent.yaml").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("absent.yaml: cannot read"), r.err());

        r = run("mine", "--data", "d", "--out", "o");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--model is required"), r.err());

        r = run("mine", "--model", "m", "--data", "d", "--out", "o", "--rollouts", "4");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("needs temperature > 0"), r.err());

        r = run("mine", "--model", "m", "--data", "d", "--out", "o", "--device", "tpu");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("engine device must be cpu, cuda or cuda-bf16, got 'tpu'"), r.err());

        r = run("mine", "--model", "m", "--data", "d", "--out", "o", "--shard", "4/4");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("0 <= i < n"), r.err());
    }

    @Test
    void malformedAndMissingDataNameFileAndLine() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"question\":\"q1\",\"answer\":\"#### 1\"}\n\n{\"question\":\"q2\",\"answer\":\"#### 2\"\n");
        Result r = run("mine", "--model", model.toString(), "--data", bad.toString(), "--out", dir.resolve("o.jsonl").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(bad + ":3: invalid JSON"), r.err());

        Path dup = dir.resolve("dup.jsonl");
        Files.writeString(dup, "{\"id\":\"a\",\"question\":\"q1\",\"answer\":\"#### 1\"}\n{\"id\":\"a\",\"question\":\"q2\",\"answer\":\"#### 2\"}\n");
        r = run("mine", "--model", model.toString(), "--data", dup.toString(), "--out", dir.resolve("o.jsonl").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(dup + ":2: duplicate id a (first on line 1)"), r.err());

        Path absent = dir.resolve("absent.jsonl");
        r = run("mine", "--model", model.toString(), "--data", absent.toString(), "--out", dir.resolve("o.jsonl").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(absent + ": cannot open"), r.err());

        Path good = dir.resolve("good.jsonl");
        Files.writeString(good, "{\"question\":\"q1\",\"answer\":\"#### 1\"}\n");
        Path noModel = dir.resolve("no-model");
        r = run("mine", "--model", noModel.toString(), "--data", good.toString(), "--out", dir.resolve("o.jsonl").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(noModel + ": model directory not found"), r.err());

        Path corruptMasks = dir.resolve("corrupt.jsonl");
        Files.writeString(corruptMasks, "{\"id\":\"x\"}\ngarbage\n");
        r = run("mine", "--model", model.toString(), "--data", good.toString(), "--out", corruptMasks.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains(corruptMasks + ":1: not a mask record") || r.err().contains(corruptMasks + ":2: not a mask record"), r.err());
    }

    /** A hand-made record: response "2 + 3 = 5<eos>", positions 2 ("3") and 4 ("5") critical. */
    static MaskRecord handMade() {
        MaskRecord.Position p2 = new MaskRecord.Position(2, 12, 0.75f, true, List.of(
                new MaskRecord.Alternative(13, "4", 0.125f, true, List.of(new MaskRecord.Continuation("6", false, 2))),
                new MaskRecord.Alternative(11, "2", 0.0625f, true, List.of(new MaskRecord.Continuation(null, false, 2)))));
        MaskRecord.Position p3 = new MaskRecord.Position(3, 20, 0.5f, false, List.of(
                new MaskRecord.Alternative(21, "=", 0.25f, false, List.of(new MaskRecord.Continuation("5", true, 1))),
                new MaskRecord.Alternative(22, "\n", 0.125f, true, List.of(new MaskRecord.Continuation("3", false, 1)))));
        MaskRecord.Position p4 = new MaskRecord.Position(4, 15, 0.9f, true, List.of(
                new MaskRecord.Alternative(16, "6", 0.05f, true, List.of(new MaskRecord.Continuation("6", false, 1))),
                new MaskRecord.Alternative(14, "4", 0.01f, true, List.of(new MaskRecord.Continuation("4", false, 1)))));
        return new MaskRecord("ex-1", 0, "What is 2 + 3?", "5", true, "5", 7, new long[] {11, 30, 12, 20, 15, 0},
                List.of("2", " +", " 3", " =", " 5", "<eos>"), "2 + 3 = 5", List.of(2, 4), List.of(p2, p3, p4));
    }

    @Test
    void showHighlightsCriticalTokensAndTellsWhatAlternativesLedTo() throws IOException {
        Path masks = dir.resolve("masks.jsonl");
        MaskRecord other = new MaskRecord("ex-0", 1, "q", "1", false, "2", 3, new long[] {1}, List.of("2"), "2", List.of(), List.of());
        Files.writeString(masks, MasksJson.toLine(other) + "\n" + MasksJson.toLine(handMade()) + "\n{\"id\":\"tor");
        Result r = run("show", masks.toString(), "--id", "ex-1", "--color", "never");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("2 +[[ 3]] =[[ 5]]<eos>"), r.out());
        assertTrue(r.out().contains("2 of 3 examined positions critical"), r.out());
        assertTrue(r.out().contains("t=2 \" 3\" (p=0.750)"), r.out());
        assertTrue(r.out().contains("instead \"4\" (p=0.125) -> 6 (wrong)"), r.out());
        assertTrue(r.out().contains("instead \"2\" (p=0.063) -> no answer (wrong)"), r.out());
        assertTrue(r.out().contains("t=4 \" 5\" (p=0.900)"), r.out());
        assertTrue(!r.out().contains("t=3 "), "non-critical positions are not listed");

        Result colored = run("show", masks.toString(), "--id", "ex-1", "--color", "always");
        assertTrue(colored.out().contains("2 +\u001b[1;31m 3\u001b[0m ="), colored.out());

        Result dropped = run("show", masks.toString(), "--id", "ex-0", "--color", "never");
        assertTrue(dropped.out().contains("dropped (response verified wrong)"), dropped.out());

        Result missing = run("show", masks.toString(), "--id", "nope");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains(masks + ": no record with id 'nope'"), missing.err());

        Path corrupt = dir.resolve("c.jsonl");
        Files.writeString(corrupt, "{oops\n" + MasksJson.toLine(handMade()) + "\n");
        Result bad = run("show", corrupt.toString(), "--id", "ex-1");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains(corrupt + ":1: not a mask record"), bad.err());

        Result absent = run("show", dir.resolve("none.jsonl").toString(), "--id", "x");
        assertEquals(1, absent.status());
        assertTrue(absent.err().contains("none.jsonl: no such file"), absent.err());
    }

    @Test
    void usageListsTheSubcommands() {
        Result r = run("--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("mine") && r.out().contains("show"), r.out());
        assertNull(YamlDefaults.fromArgs(new String[] {"mine", "--k", "2"}));
    }
}
