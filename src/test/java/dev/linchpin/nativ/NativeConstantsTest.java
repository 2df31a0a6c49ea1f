package dev.linchpin.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every integer constant of {@code cpp/include/linchpin.h} (each {@code #define LP_* <integer>} and each
 * entry of a {@code typedef enum}) has a Java twin of the same value, and Java has no constant the header
 * lacks: the {@code lp_status} codes in {@link NativeStatus} (named without {@code LP_} / {@code LP_ERR_}),
 * every other one in {@link LinchpinNative} under its header name. The header is read as text, so the
 * check needs no native library; a value changed or a constant added on one side only fails here.
 */
class NativeConstantsTest {
    private static final Path HEADER = header();
    private static final Pattern DEFINE = Pattern.compile("(?m)^\\s*#\\s*define\\s+(LP_\\w+)\\s+(-?\\d+)\\s*$");
    private static final Pattern ENUM = Pattern.compile("typedef\\s+enum\\s+(\\w+)\\s*\\{([^}]*)}");
    private static final Pattern ENTRY = Pattern.compile("^\\s*(LP_\\w+)\\s*=\\s*(-?\\d+)\\s*$");

    /**
     * linchpin.h: under the working directory (Maven runs tests in the project root), else beside the test
     * classes (the GPU kit's bundle keeps the native sources in src/ next to test-classes/).
     */
    private static Path header() {
        List<Path> tried = new ArrayList<>(List.of(Path.of("cpp", "include", "linchpin.h")));
        try {
            Path classes = Path.of(NativeConstantsTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            tried.add(classes.resolveSibling("src").resolve("cpp/include/linchpin.h"));
            tried.add(classes.getParent().resolveSibling("cpp").resolve("include/linchpin.h"));
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // no code source to look beside: the working directory is the only candidate
        }
        for (Path p : tried) if (Files.isRegularFile(p)) return p;
        throw new IllegalStateException("linchpin.h not found; tried " + tried);
    }

    /** Java name (qualified by class) → value, as the header defines it. */
    static Map<String, Integer> headerConstants() throws IOException {
        String text = stripComments(Files.readString(HEADER, StandardCharsets.UTF_8));
        Map<String, Integer> out = new TreeMap<>();
        Matcher d = DEFINE.matcher(text);
        while (d.find()) out.put("LinchpinNative." + d.group(1), Integer.parseInt(d.group(2)));
        Matcher e = ENUM.matcher(text);
        while (e.find()) {
            boolean status = e.group(1).equals("lp_status");
            for (String entry : e.group(2).split(",")) {
                if (entry.isBlank()) continue;
                Matcher m = ENTRY.matcher(entry);
                assertTrue(m.matches(), "enum " + e.group(1) + ": give '" + entry.strip() + "' an explicit integer value");
                String name = m.group(1);
                String java = status ? "NativeStatus." + name.replaceFirst("^LP_(ERR_)?", "") : "LinchpinNative." + name;
                out.put(java, Integer.parseInt(m.group(2)));
            }
        }
        return out;
    }

    /** Java name (qualified by class) → value, from the public static final int fields. */
    static Map<String, Integer> javaConstants() throws IllegalAccessException {
        Map<String, Integer> out = new TreeMap<>();
        for (Class<?> c : List.of(LinchpinNative.class, NativeStatus.class)) {
            for (Field f : c.getDeclaredFields()) {
                int mod = f.getModifiers();
                if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod) || f.getType() != int.class) continue;
                if (c == LinchpinNative.class && !f.getName().startsWith("LP_")) continue;
                out.put(c.getSimpleName() + "." + f.getName(), f.getInt(null));
            }
        }
        return out;
    }

    @Test
    void everyHeaderConstantHasAJavaTwinWithTheSameValue() throws Exception {
        Map<String, Integer> header = headerConstants(), java = javaConstants();
        assertFalse(header.isEmpty(), "no constants found in " + HEADER);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Integer> h : header.entrySet()) {
            Integer j = java.get(h.getKey());
            if (j == null) problems.add(h.getKey() + " = " + h.getValue() + " is in linchpin.h but not in Java");
            else if (!j.equals(h.getValue())) problems.add(h.getKey() + ": linchpin.h says " + h.getValue() + ", Java " + j);
        }
        for (String name : java.keySet()) {
            if (!header.containsKey(name)) problems.add(name + " is in Java but not in linchpin.h");
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        // the constants the Java side depends on by name are among those checked
        for (String name : List.of("LinchpinNative.LP_ABI_VERSION", "LinchpinNative.LP_F32", "LinchpinNative.LP_FAMILY_QWEN3",
                "LinchpinNative.LP_ENGINE_CUDA_BF16", "NativeStatus.OK", "NativeStatus.UNAVAILABLE")) {
            assertTrue(header.containsKey(name), name);
        }
        assertEquals(NativeLibrary.EXPECTED_ABI, header.get("LinchpinNative.LP_ABI_VERSION"));
    }

    @Test
    void theParserSeesDefinesAndEnumEntriesAndSkipsComments() {
        String text = stripComments("""
                #define LP_A 7 /* seven */
                // #define LP_GONE 1
                /* #define LP_ALSO_GONE 2 */
                #define LP_API __attribute__((visibility("default")))
                """);
        Matcher d = DEFINE.matcher(text);
        List<String> found = new ArrayList<>();
        while (d.find()) found.add(d.group(1) + "=" + d.group(2));
        assertEquals(List.of("LP_A=7"), found);
    }

    private static String stripComments(String c) {
        return c.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", "");
    }
}
