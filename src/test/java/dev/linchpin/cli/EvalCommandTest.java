package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.eval.EvalOptions;
import dev.linchpin.eval.EvalRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code linchpin eval}'s option parsing: defaults, a YAML run config, command-line overrides, errors. */
class EvalCommandTest {
    @TempDir
    Path dir;

    static EvalRun.Settings parse(YamlDefaults yaml, String... args) {
        CommandLine cl = new CommandLine(new EvalCommand());
        if (yaml != null) cl.setDefaultValueProvider(yaml);
        cl.parseArgs(args);
        EvalCommand c = cl.getCommand();
        return c.settings();
    }

    @Test
    void defaultsAreSixteenSamplesAtTemperatureZeroPointSixTopP095AndPowersOfTwo() {
        EvalRun.Settings s = parse(null, "--model", "m", "--data", "a.jsonl,b.jsonl");
        EvalOptions o = s.options();
        assertEquals(16, o.samples());
        assertEquals(List.of(1, 2, 4, 8, 16), o.ks());
        assertEquals(0.6, o.temperature());
        assertEquals(0.95, o.topP());
        assertEquals(0L, o.seed());
        assertEquals(256, o.maxNewTokens());
        assertEquals(0, o.maxExamples());
        assertEquals(List.of(Path.of("a.jsonl"), Path.of("b.jsonl")), s.data());
        assertEquals(null, s.out());
        assertEquals(DatasetFormat.AUTO, s.format());
        assertEquals(PromptEncoder.Style.AUTO, s.promptStyle());
        assertEquals(2048L << 20, s.kvBudgetBytes());
        assertEquals(List.of(1, 2, 4, 5), EvalOptions.defaultKs(5));
    }

    @Test
    void yamlConfigSetsDefaultsAndTheCommandLineOverridesThem() throws IOException {
        Path yaml = dir.resolve("eval.yaml");
        Files.writeString(yaml, "model: models/tiny\ndata: t.jsonl,o.jsonl\nsamples: 8\nk: 1,8\ntemperature: 1.0\n"
                + "max-examples: 20\nthreads: 2\nseed: 9\n");
        EvalRun.Settings s = parse(YamlDefaults.load(yaml), "--config", yaml.toString(), "--temperature", "0.7", "--out", "e.json");
        assertEquals(0.7, s.options().temperature(), "command line wins");
        assertEquals(8, s.options().samples(), "from the file");
        assertEquals(List.of(1, 8), s.options().ks());
        assertEquals(20, s.options().maxExamples());
        assertEquals(9L, s.options().seed());
        assertEquals(2, s.threads());
        assertEquals(List.of(Path.of("t.jsonl"), Path.of("o.jsonl")), s.data());
        assertEquals(Path.of("models/tiny"), s.model());
        assertEquals(Path.of("e.json"), s.out());
    }

    @Test
    void badOptionsAndConfigsGiveOneLineErrors() throws IOException {
        CliTest.Result r = CliTest.run("eval", "--data", "a.jsonl");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--model is required"), r.err());
        r = CliTest.run("eval", "--model", "m");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--data is required"), r.err());
        assertEquals(List.of(1, 2, 4), parse(null, "--model", "m", "--data", "a.jsonl", "--samples", "4").options().ks(),
                "the default ks follow n");
        r = CliTest.run("eval", "--model", "m", "--data", "a.jsonl", "--samples", "4", "--k", "2,1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("ascending"), r.err());
        r = CliTest.run("eval", "--model", "m", "--data", "a.jsonl", "--top-p", "0");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("top-p must be in (0, 1]"), r.err());
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "model: m\ndata: a.jsonl\nrollouts: 3\n");
        r = CliTest.run("eval", "--config", yaml.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("unknown key 'rollouts' for linchpin eval"), r.err());
        r = CliTest.run("--help");
        assertTrue(r.out().contains("eval"), r.out());
    }
}
