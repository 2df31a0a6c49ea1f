package dev.linchpin.mine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mining and evaluation need no libtorch: {@code linchpin mine} and {@code linchpin eval} run in a child
 * JVM whose class path is the project's runtime class path without the bytedeco pytorch jars (what a
 * mining server deploys), never load a libtorch class ({@code -verbose:class}), and write exactly what
 * the same commands write in this JVM, where libtorch is present.
 */
class WithoutLibtorchTest {
    @TempDir
    static Path scratch;
    static Path model, data;
    static String classPath;

    @BeforeAll
    static void fixture() throws IOException {
        model = MiningFixture.modelDir(scratch);
        data = scratch.resolve("data.jsonl");
        MiningFixture.writeData(data, 6, model);
        List<String> all = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        List<String> kept = all.stream()
                .filter(e -> !e.replace('\\', '/').contains("/org/bytedeco/pytorch/"))
                .filter(e -> !e.replace('\\', '/').endsWith("/test-classes"))
                .collect(Collectors.toList());
        assertTrue(all.size() - kept.size() >= 3, "the pytorch jars (and test classes) are on this JVM's class path: " + all);
        assertFalse(kept.stream().anyMatch(e -> e.contains("pytorch")), "no pytorch jar left: " + kept);
        classPath = String.join(File.pathSeparator, kept);
    }

    /** Runs the CLI in a child JVM without libtorch; returns its output, after checking it loaded no libtorch class. */
    static String runWithoutLibtorch(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-verbose:class", "-cp", classPath, Main.class.getName()));
        command.addAll(args);
        Path log = Files.createTempFile(scratch, "child", ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        assertTrue(child.waitFor(300, TimeUnit.SECONDS), "child did not finish in 300 s");
        String out = Files.readString(log);
        assertEquals(0, child.exitValue(), out.lines().filter(l -> !l.startsWith("[")).collect(Collectors.joining("\n")));
        assertFalse(out.contains("org.bytedeco.pytorch"), "a libtorch class was loaded");
        assertTrue(out.contains("dev.linchpin.engine.RolloutEngine source:"), "the engine ran in the child");
        return out;
    }

    static void runHere(List<String> args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void mineWithoutLibtorchWritesTheSameMasks() throws Exception {
        Path child = scratch.resolve("masks-child.jsonl"), here = scratch.resolve("masks-here.jsonl");
        runWithoutLibtorch(MiningFixture.mineArgs(model, data, child, 4));
        runHere(MiningFixture.mineArgs(model, data, here, 4));
        assertTrue(Files.readAllLines(here).size() == 6);
        assertArrayEquals(Files.readAllBytes(here), Files.readAllBytes(child));
        assertArrayEquals(Files.readAllBytes(Path.of(here + ".options.json")), Files.readAllBytes(Path.of(child + ".options.json")));
    }

    @Test
    void evalWithoutLibtorchWritesTheSameReport() throws Exception {
        Path child = scratch.resolve("eval-child.json"), here = scratch.resolve("eval-here.json");
        List<String> args = List.of("eval", "--model", model.toString(), "--data", data.toString(), "--samples", "4",
                "--temperature", "0.7", "--top-p", "0.8", "--max-new-tokens", "12", "--threads", "1", "--progress", "log");
        List<String> a = new ArrayList<>(args), b = new ArrayList<>(args);
        a.addAll(List.of("--out", child.toString()));
        b.addAll(List.of("--out", here.toString()));
        runWithoutLibtorch(a);
        runHere(b);
        ObjectMapper json = new ObjectMapper();
        ObjectNode x = (ObjectNode) json.readTree(here.toFile()), y = (ObjectNode) json.readTree(child.toFile());
        x.remove("timing");   // wall time is the one field that differs run to run
        y.remove("timing");
        assertEquals(x, y);
    }
}
