package dev.linchpin.mine;

import dev.linchpin.io.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a masks file was mined with, kept beside it as {@code <masks>.options.json}, so that a restart
 * with different settings is refused instead of appending records mined under other rules to the same
 * file. It holds only what changes the records: the model's files, the prompt settings, the shard and
 * the mining rule. Batch sizes, threads and the KV budget are left out on purpose — records are
 * byte-identical across them (MiningEndToEndTest) — so a resumed run may use other ones.
 *
 * <p>Model files are identified by name, size and a SHA-256 of their first and last MiB (plus all of
 * config.json and the tokenizer files): cheap on multi-GB checkpoints, and any retraining changes them.
 */
public final class MiningFingerprint {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    private static final int EDGE = 1 << 20;

    private MiningFingerprint() {}

    /** {@code <masks>.options.json}. */
    public static Path pathFor(Path masks) {
        return masks.resolveSibling(masks.getFileName() + ".options.json");
    }

    /** The settings that determine the records, as flat key → value strings. */
    public static Map<String, String> of(MiningRun.Settings s) throws IOException {
        Map<String, String> m = new TreeMap<>();
        MiningOptions o = s.options();
        m.put("k", String.valueOf(o.k()));
        m.put("rollouts", String.valueOf(o.rollouts()));
        m.put("temperature", String.valueOf(o.temperature()));
        m.put("top_p", String.valueOf(o.topP()));
        m.put("seed", String.valueOf(o.seed()));
        m.put("failure_threshold", String.valueOf(o.failureThreshold()));
        m.put("span", o.spanStart() + ":" + o.spanEnd());
        m.put("max_new_tokens", String.valueOf(o.maxNewTokens()));
        m.put("branch_margin", String.valueOf(o.branchMargin()));
        m.put("format", s.format().name());
        m.put("prompt_format", s.promptStyle().name());
        m.put("prompt_template", String.valueOf(s.promptTemplate()));
        m.put("system_prompt", String.valueOf(s.systemPrompt()));
        m.put("shard", s.shard().toString());
        m.put("model", modelIdentity(s.model()));
        if (s.device() != dev.linchpin.engine.EngineDevice.CPU) m.put("engine_device", s.device().cliName());   // absent = cpu (older files)
        return m;
    }

    /**
     * Records {@code current} beside a new masks file, or checks it against what an existing one was
     * mined with. A masks file with records but no options file (written before this check existed) is
     * adopted with a note to {@code progress}.
     *
     * @throws IOException naming every setting that differs, when resuming with other settings
     */
    static void recordOrCheck(Path masks, Map<String, String> current, boolean hasRecords, dev.linchpin.progress.ProgressListener progress) throws IOException {
        Path file = pathFor(masks);
        if (Files.exists(file) && hasRecords) {
            Map<String, String> before = read(file);
            List<String> diffs = differences(before, current);
            if (!diffs.isEmpty()) {
                throw new IOException(masks + " was mined with other settings (" + file.getFileName() + "): "
                        + String.join("; ", diffs) + ". Resume with the same settings, or mine into a new --out.");
            }
            return;
        }
        if (hasRecords) progress.message("mine: " + masks + " has no " + file.getFileName() + " (older run); recording the current settings");
        write(file, current);
    }

    /** Every setting that differs, as "key: was a, now b", in key order (empty when equal). */
    public static List<String> differences(Map<String, String> before, Map<String, String> current) {
        List<String> diffs = new ArrayList<>();
        for (String key : new java.util.TreeSet<>(union(before, current))) {
            String a = before.get(key), b = current.get(key);
            if (a == null ? b != null : !a.equals(b)) diffs.add(key + ": was " + a + ", now " + b);
        }
        return diffs;
    }

    private static java.util.Set<String> union(Map<String, String> a, Map<String, String> b) {
        java.util.Set<String> keys = new java.util.HashSet<>(a.keySet());
        keys.addAll(b.keySet());
        return keys;
    }

    private static Map<String, String> read(Path file) throws IOException {
        return parse(Files.readString(file, java.nio.charset.StandardCharsets.UTF_8), file.toString());
    }

    /**
     * Reads an options file's text ({@code where} names it in errors): for a file on another file
     * system, such as a Spark job's output directory.
     */
    public static Map<String, String> parse(String text, String where) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new IOException(where + ": unreadable mining options (" + e.getMessage() + "); delete it only if you know the masks file's settings", e);
        }
        if (root == null || !root.isObject()) throw new IOException(where + ": mining options must be a JSON object");
        Map<String, String> m = new TreeMap<>();
        root.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
        return m;
    }

    private static void write(Path file, Map<String, String> values) throws IOException {
        AtomicFiles.writeString(file, toJson(values));
    }

    /** The text of an options file with {@code values}, byte for byte what {@code linchpin mine} writes. */
    public static String toJson(Map<String, String> values) throws IOException {
        ObjectNode node = JSON.createObjectNode();
        values.forEach(node::put);
        return JSON.writeValueAsString(node);
    }

    /** Name, size and edge hash of every regular file of the model directory, in name order. */
    public static String modelIdentity(Path dir) throws IOException {
        MessageDigest all = sha256();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (!(name.endsWith(".json") || name.endsWith(".safetensors") || name.endsWith(".model") || name.endsWith(".txt"))) continue;
            long size = Files.size(f);
            all.update((name + "\0" + size + "\0").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                if (size <= 2L * EDGE) {
                    all.update(in.readAllBytes());
                } else {
                    all.update(in.readNBytes(EDGE));
                    in.skipNBytes(size - 2L * EDGE);
                    all.update(in.readNBytes(EDGE));
                }
            }
        }
        return HexFormat.of().formatHex(all.digest(), 0, 12);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
