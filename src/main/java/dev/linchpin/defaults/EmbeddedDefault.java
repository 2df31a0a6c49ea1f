package dev.linchpin.defaults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.progress.ProgressListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The offline default model: a small Llama trained from scratch on the synthetic task by
 * {@link DefaultRecipe}, cached per {@link DefaultConfig#hash()} so that only the first command pays
 * for training.
 *
 * <p>Cache layout: {@code <root>/<hash>/} holds the model in Hugging Face layout ({@code config.json},
 * {@code model.safetensors}, {@code tokenizer.json}, {@code tokenizer_config.json},
 * {@code special_tokens_map.json}), the splits as GSM8K JSONL under {@code data/}, and
 * {@code training.json} (metrics, the config, and a SHA-256 of every other file). The root is
 * {@code $LINCHPIN_CACHE/default} if that variable is set, else the system property
 * {@code linchpin.cache} + {@code /default}, else {@code ~/.cache/linchpin/default}.
 *
 * <p>Atomicity: a model is built in a temporary sibling directory and renamed into place only when
 * complete. A directory counts as complete only when its {@code training.json} names the same hash
 * and every file matches its recorded checksum, so a killed run, a truncated file or a stray edit is
 * never reused: it is removed and rebuilt.
 */
public final class EmbeddedDefault {
    /** Files every complete cache directory holds besides training.json. */
    public static final List<String> MODEL_FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "data/train.jsonl", "data/test.jsonl", "data/ood.jsonl");
    private static final String TMP_PREFIX = ".tmp-";

    private EmbeddedDefault() {}

    /** What {@link #ensureDetailed} found or did. */
    public record Result(Path directory, boolean trained, JsonNode training) {}

    /** The directory of the trained default model for {@code config}, training it first if the cache lacks it. */
    public static Path ensure(DefaultConfig config, ProgressListener progress) throws IOException {
        return ensureDetailed(config, progress, cacheRoot()).directory();
    }

    /** {@link #ensure} under an explicit cache root, also saying whether it trained. */
    public static Result ensureDetailed(DefaultConfig config, ProgressListener progress, Path root) throws IOException {
        String hash = config.hash();
        Path dir = root.resolve(hash);
        JsonNode existing = readIfComplete(dir, hash);
        if (existing != null) return new Result(dir, false, existing);
        Files.createDirectories(root);
        removeAbandonedTemps(root, hash);
        if (Files.exists(dir)) {
            progress.message("embedded default: " + dir + " is incomplete or corrupted; rebuilding it");
            deleteTree(dir);
        }
        Path tmp = root.resolve(TMP_PREFIX + hash + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            ObjectNode report = DefaultRecipe.build(config, tmp, progress);
            report.set("files", DefaultRecipe.writer().valueToTree(checksums(tmp)));
            DefaultRecipe.writer().writeValue(tmp.resolve(DefaultRecipe.TRAINING_JSON).toFile(), report);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                JsonNode other = readIfComplete(dir, hash);   // another process finished first: use its copy
                if (other == null) throw new IOException(dir + " appeared while training and is not a complete model", raced);
                return new Result(dir, false, other);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + dir + " atomically; put the cache on one file system", e);
            }
            progress.message("embedded default saved to " + dir);
            return new Result(dir, true, report);
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
    }

    /** The cache root for default models (see the class comment). */
    public static Path cacheRoot() {
        String env = System.getenv("LINCHPIN_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env).resolve("default");
        String prop = System.getProperty("linchpin.cache");
        if (prop != null && !prop.isBlank()) return Path.of(prop).resolve("default");
        return Path.of(System.getProperty("user.home"), ".cache", "linchpin", "default");
    }

    /**
     * The parsed training.json of {@code dir} when it is a complete model for {@code hash} (every file
     * present and matching its checksum), else null.
     */
    static JsonNode readIfComplete(Path dir, String hash) {
        Path report = dir.resolve(DefaultRecipe.TRAINING_JSON);
        if (!Files.isRegularFile(report)) return null;
        try {
            JsonNode root = new ObjectMapper().readTree(report.toFile());
            if (root == null || !hash.equals(root.path("config_hash").asText(null))) return null;
            JsonNode files = root.get("files");
            if (files == null || !files.isObject()) return null;
            for (String name : MODEL_FILES) if (!files.has(name)) return null;
            for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                Path file = dir.resolve(e.getKey()).normalize();
                if (!file.startsWith(dir) || !Files.isRegularFile(file) || !sha256(file).equals(e.getValue().asText())) return null;
            }
            return root;
        } catch (IOException | UncheckedIOException e) {
            return null;  // unreadable or malformed: not a usable cache
        }
    }

    /** SHA-256 of every regular file under {@code dir}, by relative path with '/' separators. */
    static Map<String, String> checksums(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                out.put(dir.relativize(p).toString().replace('\\', '/'), sha256(p));
            }
        }
        return out;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Deletes temporary directories of {@code hash} left by processes that no longer run (killed builds). */
    private static void removeAbandonedTemps(Path root, String hash) throws IOException {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, TMP_PREFIX + hash + "-*")) {
            for (Path p : entries) {
                String[] parts = p.getFileName().toString().substring(TMP_PREFIX.length() + hash.length() + 1).split("-");
                try {
                    long pid = Long.parseLong(parts[0]);
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                } catch (NumberFormatException e) {
                    // not ours to judge by pid: treat as abandoned
                }
                stale.add(p);
            }
        }
        for (Path p : stale) deleteTree(p);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }
}
