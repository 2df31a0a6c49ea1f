package dev.linchpin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.UserError;
import dev.linchpin.tokenizer.TokenizerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User errors have one marker type, and the command line maps every one of them to exit 1 without a stack trace. */
class UserErrorsTest {
    /** Exceptions of the project that mean a bug or a broken installation: exit 3 with the stack trace. */
    static final Set<String> INTERNAL = Set.of("dev.linchpin.nativ.LinchpinNativeException");

    @TempDir
    Path dir;

    @Test
    void everyExceptionOfTheProjectIsAUserErrorOrNamedInternal() throws Exception {
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> unmarked = new ArrayList<>();
        int found = 0;
        try (Stream<Path> walk = Files.walk(classes.resolve("dev/linchpin"))) {
            for (Path f : (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String name = classes.relativize(f).toString().replace('/', '.').replace('\\', '.').replaceAll("\\.class$", "");
                Class<?> c = Class.forName(name, false, Main.class.getClassLoader());
                if (!Throwable.class.isAssignableFrom(c)) continue;
                found++;
                if (!UserError.class.isAssignableFrom(c) && !INTERNAL.contains(name) && !UserError.isUserError(instanceLike(c))) {
                    unmarked.add(name);
                }
            }
        }
        assertTrue(found >= 10, "exception classes found: " + found);
        assertTrue(unmarked.isEmpty(), "exceptions neither UserError nor named internal: " + unmarked);
        assertFalse(Main.isUserError(new IllegalStateException("a bug")));
        assertFalse(Main.isUserError(new dev.linchpin.nativ.LinchpinNativeException(5, "internal")));
    }

    /** A stand-in whose type answers isUserError as instances of {@code c} would (its JDK superclass). */
    private static Throwable instanceLike(Class<?> c) {
        if (java.io.IOException.class.isAssignableFrom(c)) return new java.io.IOException();
        if (IllegalArgumentException.class.isAssignableFrom(c)) return new IllegalArgumentException();
        return new RuntimeException();
    }

    /** A chat template that raises: one line naming the template's message, exit 1 (it used to be exit 3 with a stack trace). */
    @Test
    void aChatTemplateErrorIsAUserError() throws Exception {
        Path model = dir.resolve("model");
        new TokenizerBuilder().addWords(List.of("Tom", "has", "apples")).write(model);
        Files.writeString(model.resolve("chat_template.jinja"), "{{ raise_exception('this template takes no questions') }}");
        Path data = dir.resolve("d.jsonl");
        Files.writeString(data, "{\"question\": \"Tom has apples\", \"answer\": \"Tom has apples #### 3\"}\n");
        CliTest.Result r = CliTest.run("train", "--model", model.toString(), "--data", data.toString(), "--out",
                dir.resolve("out").toString(), "--steps", "1", "--progress", "log");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("this template takes no questions"), r.err());
        assertFalse(r.err().contains("\tat dev.linchpin"), "no stack trace: " + r.err());
    }
}
