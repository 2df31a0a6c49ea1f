package dev.linchpin.model.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weights of a Hugging Face model directory, memory-mapped and in pure Java: either one
 * {@code model.safetensors} or the shards listed by {@code model.safetensors.index.json}. Every shard
 * is opened and validated up front; the index must name plain files in the same directory, every
 * tensor it maps must be in its shard, and no tensor may appear in two shards.
 * ({@link SafetensorsCheckpoint} adds libtorch tensors on top.)
 */
public final class MappedCheckpoint implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path dir;
    private final Map<String, MappedSafetensors> fileOf;
    private final Map<String, MappedSafetensors> files;

    private MappedCheckpoint(Path dir, Map<String, MappedSafetensors> fileOf, Map<String, MappedSafetensors> files) {
        this.dir = dir;
        this.fileOf = Collections.unmodifiableMap(fileOf);
        this.files = files;
    }

    /** Opens the weights in {@code dir} (sharded if the index exists, else model.safetensors). */
    public static MappedCheckpoint open(Path dir) throws IOException {
        Path index = dir.resolve(SafetensorsWriter.INDEX_FILE);
        Path single = dir.resolve("model.safetensors");
        Map<String, MappedSafetensors> files = new LinkedHashMap<>();
        Map<String, MappedSafetensors> fileOf = new LinkedHashMap<>();
        try {
            if (Files.isRegularFile(index)) {
                openSharded(index, files, fileOf);
            } else if (Files.isRegularFile(single)) {
                MappedSafetensors f = MappedSafetensors.open(single);
                files.put(single.getFileName().toString(), f);
                for (String name : f.tensors().keySet()) fileOf.put(name, f);
            } else {
                throw new SafetensorsException(dir + ": no model.safetensors or " + SafetensorsWriter.INDEX_FILE);
            }
        } catch (IOException | RuntimeException e) {
            for (MappedSafetensors f : files.values()) f.close();
            throw e;
        }
        return new MappedCheckpoint(dir, fileOf, files);
    }

    private static void openSharded(Path index, Map<String, MappedSafetensors> files, Map<String, MappedSafetensors> fileOf)
            throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw SafetensorsException.of(index, "not valid JSON: " + e.getMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw SafetensorsException.of(index, "missing \"weight_map\" object");
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String tensor = e.getKey();
            JsonNode v = e.getValue();
            if (!v.isTextual()) throw SafetensorsException.of(index, tensor, "shard name is not a string");
            String shard = v.textValue();
            Path shardPath = index.resolveSibling(shard);
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".") || shard.equals("..")
                    || !shardPath.getFileName().toString().equals(shard)) {
                throw SafetensorsException.of(index, tensor, "shard '" + shard + "' is not a plain file name in this directory");
            }
            MappedSafetensors f = files.get(shard);
            if (f == null) {
                f = MappedSafetensors.open(shardPath);
                files.put(shard, f);
            }
            if (!f.tensors().containsKey(tensor)) {
                throw SafetensorsException.of(index, tensor, "mapped to " + shard + ", which does not contain it");
            }
            fileOf.put(tensor, f);
        }
        for (MappedSafetensors f : files.values()) {
            for (String tensor : f.tensors().keySet()) {
                MappedSafetensors mapped = fileOf.get(tensor);
                if (mapped != f) {
                    throw SafetensorsException.of(f.path(), tensor, mapped == null
                            ? "not listed in " + index.getFileName() : "also stored in " + mapped.path().getFileName());
                }
            }
        }
    }

    /** The model directory. */
    public Path dir() {
        return dir;
    }

    /** Header entries of all tensors, by name. */
    public Map<String, TensorEntry> entries() {
        Map<String, TensorEntry> out = new LinkedHashMap<>();
        for (Map.Entry<String, MappedSafetensors> e : fileOf.entrySet()) out.put(e.getKey(), e.getValue().tensors().get(e.getKey()));
        return out;
    }

    /** True when a tensor of that name exists. */
    public boolean contains(String name) {
        return fileOf.containsKey(name);
    }

    /** The file holding tensor {@code name}; throws naming the directory when there is none. */
    public MappedSafetensors fileOf(String name) throws SafetensorsException {
        MappedSafetensors f = fileOf.get(name);
        if (f == null) throw new SafetensorsException(dir + ": tensor '" + name + "' is not in the checkpoint");
        return f;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (MappedSafetensors f : files.values()) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
