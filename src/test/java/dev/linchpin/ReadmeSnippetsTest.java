package dev.linchpin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of README.md compiles against the project as it is, so the README's API
 * examples cannot drift from the code. A block is a method body; its {@code import} lines are hoisted,
 * and the variables it takes as given are declared in an HTML comment right before it:
 * {@code <!-- snippet-params: Tensor hidden, Path modelDir -->} (types imported by the block).
 */
class ReadmeSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile(
            "(?:<!--\\s*snippet-params:\\s*(?<params>[^>]*?)\\s*-->\\s*\\n)?```java\\n(?<body>.*?)```", Pattern.DOTALL);

    record Snippet(int line, String params, String body) {}

    static List<Snippet> snippets(String readme) {
        List<Snippet> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            int line = 1 + (int) readme.substring(0, m.start("body")).chars().filter(c -> c == '\n').count();
            out.add(new Snippet(line, m.group("params") == null ? "" : m.group("params"), m.group("body")));
        }
        return out;
    }

    static String asClass(String name, Snippet s) {
        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : s.body().split("\n", -1)) {
            (line.startsWith("import ") ? imports : body).append(line).append('\n');
        }
        return imports + "class " + name + " {\n  static void run(" + s.params() + ") throws Exception {\n" + body + "  }\n}\n";
    }

    @Test
    void everyJavaBlockOfTheReadmeCompiles(@TempDir Path out) throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        List<Snippet> snippets = snippets(readme);
        assertFalse(snippets.isEmpty(), "README.md has no ```java block");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "tests need a JDK (javax.tools compiler)");
        for (int i = 0; i < snippets.size(); i++) {
            Snippet s = snippets.get(i);
            String name = "ReadmeSnippet" + i;
            String source = asClass(name, s);
            JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///" + name + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return source;
                }
            };
            StringWriter diagnostics = new StringWriter();
            boolean ok = javac.getTask(diagnostics, null, null,
                    List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(), "-proc:none"),
                    null, List.of(file)).call();
            assertTrue(ok, "README.md line " + s.line() + ": the java block does not compile:\n" + diagnostics + "\n" + source);
        }
    }
}
