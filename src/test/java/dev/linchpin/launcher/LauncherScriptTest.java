package dev.linchpin.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./linchpin} launcher's logic, run for real by bash in a scratch copy of the checkout with
 * stand-ins for Maven and Java that record how they were called: it builds only when the jar is
 * missing or older than a source, writes the classpath once, runs the CLI from the caller's directory
 * with OPENBLAS_NUM_THREADS=1 unless set, keeps the build's output (and Maven's raw ANSI resets) out of
 * the terminal unless the build fails, and says clearly what is missing. (Building for real would
 * mean Maven inside Maven; the real build is what the rest of the suite exercises.)
 */
class LauncherScriptTest {
    @TempDir
    Path tmp;
    Path root, calls, elsewhere;

    @BeforeEach
    void checkout() throws IOException {
        root = tmp.resolve("checkout");
        elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        calls = tmp.resolve("calls.log");
        Files.createDirectories(root.resolve("src/main/java/dev"));
        Files.copy(Path.of("linchpin"), root.resolve("linchpin"));
        assertTrue(root.resolve("linchpin").toFile().setExecutable(true));
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Files.writeString(root.resolve("src/main/java/dev/A.java"), "class A {}\n");
        old(root.resolve("pom.xml"));
        old(root.resolve("src/main/java/dev/A.java"));
        script("mvn", """
                echo "mvn $* | opts=$MAVEN_OPTS" >> "%s"
                # What Maven 3.8 prints: build chatter, and jansi's raw reset codes unless -Djansi.noreset=true.
                echo "[ 50%%] Building CXX object CMakeFiles/linchpin.dir/cpp/src/engine/engine.cpp.o"
                case "$MAVEN_OPTS" in *-Djansi.noreset=true*) ;; *) printf '\033[0m\033[0m' ;; esac
                if [ -n "${FAKE_BUILD_ERROR:-}" ]; then echo "$FAKE_BUILD_ERROR" >&2; exit 1; fi
                for a in "$@"; do
                  case "$a" in
                    package) mkdir -p target && : > target/linchpin-0.1.0-SNAPSHOT.jar ;;
                    -Dmdep.outputFile=*) printf 'dep1.jar:dep2.jar' > "${a#-Dmdep.outputFile=}" ;;
                  esac
                done
                """.formatted(calls));
        script("java", """
                if [ "$1" = "-version" ]; then echo "openjdk version \\"${FAKE_JAVA_VERSION:-17.0.15}\\" 2025-04-15" >&2; exit 0; fi
                echo "java $* | cwd=$PWD | blas=$OPENBLAS_NUM_THREADS" >> "%s"
                """.formatted(calls));
    }

    private void script(String name, String body) throws IOException {
        Path p = tmp.resolve("bin").resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/usr/bin/env bash\n" + body);
        assertTrue(p.toFile().setExecutable(true));
    }

    private static void old(Path p) throws IOException {
        Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
    }

    record Run(int status, String output, List<String> calls) {}

    private Run launch(Map<String, String> env, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("bash", root.resolve("linchpin").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(elsewhere.toFile()).redirectErrorStream(true);
        pb.environment().put("MVN", tmp.resolve("bin/mvn").toString());
        pb.environment().put("JAVA", tmp.resolve("bin/java").toString());
        pb.environment().remove("OPENBLAS_NUM_THREADS");
        pb.environment().remove("LINCHPIN_MAVEN_ARGS");
        pb.environment().remove("MAVEN_OPTS");
        pb.environment().putAll(env);
        Files.deleteIfExists(calls);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<String> log = Files.exists(calls) ? Files.readAllLines(calls) : List.of();
        return new Run(p.exitValue(), out, log);
    }

    @Test
    void buildsOnFirstUseThenRunsTheCliFromTheCallersDirectory() throws Exception {
        Run first = launch(Map.of(), "demo", "--quick");
        assertEquals(0, first.status(), first.output());
        assertEquals(3, first.calls().size(), first.calls().toString());
        assertTrue(first.calls().get(0).startsWith("mvn ") && first.calls().get(0).contains(" package"), first.calls().get(0));
        assertTrue(first.calls().get(0).contains("-DskipTests"), first.calls().get(0));
        assertTrue(first.calls().get(1).contains("dependency:build-classpath") && first.calls().get(1).contains("-DincludeScope=runtime"),
                first.calls().get(1));
        String jar = root.toRealPath().resolve("target/linchpin-0.1.0-SNAPSHOT.jar").toString();
        assertEquals("java -Xss4m -cp " + jar + ":dep1.jar:dep2.jar dev.linchpin.cli.Main demo --quick | cwd="
                + elsewhere.toRealPath() + " | blas=1", first.calls().get(2));

        assertTrue(first.calls().get(0).contains("| opts=-Djansi.noreset=true"), first.calls().get(0));
        // The user sees one line about the build, not the build's output and no raw ANSI codes.
        assertFalse(first.output().contains("\u001b"), "raw ANSI codes: " + first.output());
        assertFalse(first.output().contains("Building CXX"), first.output());
        assertTrue(first.output().startsWith("linchpin: building ") && first.output().strip().lines().count() == 1, first.output());
        assertTrue(Files.readString(root.resolve("target/build.log")).contains("Building CXX"), "build output kept in target/build.log");

        Run second = launch(Map.of("OPENBLAS_NUM_THREADS", "4"), "--help");
        assertEquals(0, second.status(), second.output());
        assertEquals(1, second.calls().size(), "an up-to-date checkout is not rebuilt: " + second.calls());
        assertTrue(second.calls().get(0).endsWith("dev.linchpin.cli.Main --help | cwd=" + elsewhere.toRealPath() + " | blas=4"),
                second.calls().get(0));
    }

    @Test
    void aSourceNewerThanTheJarRebuildsButKeepsTheClasspath() throws Exception {
        assertEquals(0, launch(Map.of(), "--help").status());
        old(root.resolve("target/linchpin-0.1.0-SNAPSHOT.jar"));
        old(root.resolve("target/classpath.txt"));
        Files.setLastModifiedTime(root.resolve("src/main/java/dev/A.java"), FileTime.fromMillis(System.currentTimeMillis()));
        Run r = launch(Map.of(), "--help");
        assertEquals(0, r.status(), r.output());
        assertEquals(2, r.calls().size(), r.calls().toString());
        assertTrue(r.calls().get(0).contains(" package"), "rebuilt: " + r.calls());
        assertFalse(r.calls().get(0).contains("build-classpath"), "pom.xml did not change: classpath kept");
    }

    @Test
    void aFailedBuildShowsTheEndOfItsLogAndWhereTheRestIs() throws Exception {
        Run r = launch(Map.of("FAKE_BUILD_ERROR", "[ERROR] Failed to execute goal exec-maven-plugin: cmake exited 2",
                "MAVEN_OPTS", "-Xmx1g"), "--help");
        assertEquals(1, r.status(), r.output());
        assertTrue(r.output().contains("[ERROR] Failed to execute goal exec-maven-plugin: cmake exited 2"), r.output());
        assertTrue(r.output().contains("the build failed") && r.output().contains("target/build.log"), r.output());
        assertTrue(r.calls().get(0).endsWith("| opts=-Djansi.noreset=true -Xmx1g"), "the user's MAVEN_OPTS are kept: " + r.calls());
        assertEquals(1, r.calls().size(), "nothing run after a failed build: " + r.calls());
    }

    @Test
    void missingOrOldToolsAreClearErrors() throws Exception {
        Run oldJava = launch(Map.of("FAKE_JAVA_VERSION", "11.0.2"), "--help");
        assertEquals(1, oldJava.status());
        assertTrue(oldJava.output().contains("Java 17 or newer is needed"), oldJava.output());
        assertTrue(oldJava.calls().isEmpty(), "nothing built or run: " + oldJava.calls());

        Run noMaven = launch(Map.of("MVN", tmp.resolve("bin/no-such-mvn").toString()), "--help");
        assertEquals(1, noMaven.status());
        assertTrue(noMaven.output().contains("Maven") && noMaven.output().contains("not found"), noMaven.output());
    }
}
