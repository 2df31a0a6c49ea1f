package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of {@code linchpin mine} with a real child process: SIGKILL it mid-run, add a torn
 * half-line as a kill during a write would leave, resume, and the masks file must equal an
 * uninterrupted run's byte for byte, with no duplicate or broken line.
 */
class KillAndResumeTest {
    static final int EXAMPLES = 48;

    @TempDir
    Path scratch;

    @Test
    void killedRunResumesToTheUninterruptedResult() throws Exception {
        Path model = MiningFixture.modelDir(scratch);
        Path data = scratch.resolve("data.jsonl");
        MiningFixture.writeData(data, EXAMPLES, model);
        Path reference = scratch.resolve("reference.jsonl"), killed = scratch.resolve("killed.jsonl");
        assertEquals(0, runInProcess(MiningFixture.mineArgs(model, data, reference, 1)));

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(MiningFixture.mineArgs(model, data, killed, 1));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(scratch.resolve("child.log").toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (newlines(killed) < 2) {
            assertTrue(child.isAlive() || newlines(killed) >= 2, "child ended early: " + Files.readString(scratch.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "no records after 60 s: " + Files.readString(scratch.resolve("child.log")));
            Thread.sleep(2);
        }
        child.destroyForcibly();   // SIGKILL: no shutdown hooks, no flushing
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        int survived = newlines(killed);
        assertTrue(survived < EXAMPLES, "the child finished before it was killed; make the run longer");
        System.out.println("kill-and-resume: child killed after " + survived + " of " + EXAMPLES + " records");

        // A kill during a write leaves a torn last line: the resumed run must cut it off, not keep it.
        Files.write(killed, "{\"id\":\"ex-0".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(MiningFixture.mineArgs(model, data, killed, 1).toArray(String[]::new),
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, log);
        assertTrue(log.contains("dropped a truncated last line"), log);
        assertTrue(log.contains("resuming"), log);

        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(killed),
                "resumed after " + survived + " records: must equal the uninterrupted run");
        Set<String> ids = new HashSet<>();
        for (String line : Files.readAllLines(killed, StandardCharsets.UTF_8)) {
            assertTrue(ids.add(MasksJson.fromLine(line).id()), "duplicate record " + line);
        }
        assertEquals(EXAMPLES, ids.size());
    }

    private static int runInProcess(List<String> args) {
        return Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream()));
    }

    private static int newlines(Path file) throws IOException {
        if (!Files.exists(file)) return 0;
        int n = 0;
        for (byte b : Files.readAllBytes(file)) if (b == '\n') n++;
        return n;
    }
}
