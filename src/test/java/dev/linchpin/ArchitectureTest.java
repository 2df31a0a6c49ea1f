package dev.linchpin;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.cli.Main;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the compiled production classes ({@code target/classes}), read from each class
 * file's constant pool (every class it names: imports, fully qualified uses, field and method types;
 * javadoc references do not count, constants inlined by javac cannot be seen). Arrows point down: only
 * the command line imports {@code dev.linchpin.cli}, no two packages depend on each other through any
 * path, and the lowest layers import nothing of the project.
 */
class ArchitectureTest {
    private static final String ROOT = "dev.linchpin";
    private static final Pattern CLASS_REF = Pattern.compile("dev/linchpin/((?:[a-z0-9_]+/)*)[A-Z][\\w$]*");
    /** package → the project packages its classes name (itself excluded). */
    static Map<String, Set<String>> graph;

    @BeforeAll
    static void readClasses() throws Exception {
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        graph = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(classes.resolve("dev/linchpin"))) {
            for (Path file : (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String pkg = classes.relativize(file.getParent()).toString().replace('/', '.').replace('\\', '.');
                Set<String> deps = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
                for (String s : utf8Constants(file)) {
                    Matcher m = CLASS_REF.matcher(s);
                    while (m.find()) {
                        String dep = (ROOT + "." + m.group(1).replace('/', '.')).replaceAll("\\.$", "");
                        if (!dep.equals(pkg)) deps.add(dep);
                    }
                }
            }
        }
    }

    @Test
    void theGraphIsRead() {
        assertTrue(graph.size() > 15, "packages found: " + graph.keySet());
        assertTrue(graph.get(ROOT + ".cli").contains(ROOT + ".train"), "cli uses train: " + graph.get(ROOT + ".cli"));
        assertTrue(graph.get(ROOT + ".mine").contains(ROOT + ".data"), "mine uses data: " + graph.get(ROOT + ".mine"));
        assertTrue(graph.get(ROOT + ".model").contains(ROOT + ".model.safetensors"), "model uses model.safetensors");
    }

    @Test
    void onlyTheCommandLineImportsTheCommandLine() {
        List<String> offenders = new ArrayList<>();
        graph.forEach((pkg, deps) -> {
            if (!pkg.equals(ROOT + ".cli") && deps.contains(ROOT + ".cli")) offenders.add(pkg);
        });
        assertTrue(offenders.isEmpty(), "packages that import dev.linchpin.cli: " + offenders);
    }

    /**
     * Spark is a provided dependency, absent from the launcher's classpath: only {@code dev.linchpin.spark}
     * may name Spark's or Hadoop's classes, and no other package may use {@code dev.linchpin.spark}.
     */
    @Test
    void onlyTheSparkPackageTouchesSpark() throws Exception {
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> offenders = new ArrayList<>();
        boolean sparkSeen = false;
        try (Stream<Path> walk = Files.walk(classes.resolve("dev/linchpin"))) {
            for (Path file : (Iterable<Path>) walk.filter(p -> p.toString().endsWith(".class"))::iterator) {
                boolean inSpark = classes.relativize(file).toString().startsWith("dev/linchpin/spark/");
                for (String s : utf8Constants(file)) {
                    boolean names = s.contains("org/apache/spark/") || s.contains("org/apache/hadoop/");
                    if (inSpark && names) sparkSeen = true;
                    if (!inSpark && (names || s.contains("dev/linchpin/spark/"))) offenders.add(classes.relativize(file) + " names " + s);
                }
            }
        }
        assertTrue(sparkSeen, "dev.linchpin.spark uses Spark (the check reads what it should)");
        assertTrue(offenders.isEmpty(), "classes outside dev.linchpin.spark that use Spark or Hadoop: " + offenders);
    }

    @Test
    void packagesFormNoCycle() {
        List<Set<String>> cycles = stronglyConnected(graph).stream().filter(c -> c.size() > 1).toList();
        assertTrue(cycles.isEmpty(), "package cycles (each set depends on itself through the others): " + cycles);
    }

    @Test
    void theLowestLayersImportNothingOfTheProject() {
        for (String leaf : List.of(ROOT, ROOT + ".progress", ROOT + ".io", ROOT + ".logging", ROOT + ".verify", ROOT + ".model.safetensors")) {
            assertTrue(graph.containsKey(leaf), leaf + " exists");
            Set<String> deps = new TreeSet<>(graph.get(leaf));
            deps.remove(ROOT);   // the UserError marker is everyone's
            assertTrue(deps.isEmpty(), leaf + " imports " + deps);
        }
        assertFalse(graph.get(ROOT).contains(ROOT + ".cli"));
    }

    /** Tarjan's algorithm: the strongly connected components of {@code g}. */
    static List<Set<String>> stronglyConnected(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : g.keySet()) if (!index.containsKey(v)) connect(v, g, index, low, stack, onStack, out, counter);
        return out;
    }

    private static void connect(String v, Map<String, Set<String>> g, Map<String, Integer> index, Map<String, Integer> low,
            Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                connect(w, g, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            out.add(component);
        }
    }

    /** Every CONSTANT_Utf8 of a class file (class names, descriptors, signatures, string literals). */
    static List<String> utf8Constants(Path classFile) throws IOException {
        List<String> out = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(classFile); DataInputStream in = new DataInputStream(raw)) {
            if (in.readInt() != 0xCAFEBABE) throw new IOException(classFile + ": not a class file");
            in.readUnsignedShort();   // minor
            in.readUnsignedShort();   // major
            int count = in.readUnsignedShort();
            for (int i = 1; i < count; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> out.add(in.readUTF());                       // Utf8
                    case 3, 4 -> in.skipBytes(4);                          // Integer, Float
                    case 5, 6 -> {                                          // Long, Double take two slots
                        in.skipBytes(8);
                        i++;
                    }
                    case 7, 8, 16, 19, 20 -> in.skipBytes(2);              // Class, String, MethodType, Module, Package
                    case 9, 10, 11, 12, 17, 18 -> in.skipBytes(4);         // refs, NameAndType, Dynamic, InvokeDynamic
                    case 15 -> in.skipBytes(3);                            // MethodHandle
                    default -> throw new IOException(classFile + ": unknown constant pool tag " + tag + " at " + i);
                }
            }
        }
        return out;
    }
}
