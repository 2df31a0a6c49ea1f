package dev.linchpin.model.safetensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The weights of a Hugging Face model directory as libtorch tensors: a {@link MappedCheckpoint}
 * (one {@code model.safetensors} or the shards of {@code model.safetensors.index.json}, validated up
 * front) whose tensors {@link #load} copies into fresh CPU tensors.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    private final MappedCheckpoint mapped;

    private SafetensorsCheckpoint(MappedCheckpoint mapped) {
        this.mapped = mapped;
    }

    /** Opens the weights in {@code dir} (sharded if the index exists, else model.safetensors). */
    public static SafetensorsCheckpoint open(Path dir) throws IOException {
        return new SafetensorsCheckpoint(MappedCheckpoint.open(dir));
    }

    /** The model directory. */
    public Path dir() {
        return mapped.dir();
    }

    /** Header entries of all tensors, by name. */
    public Map<String, TensorEntry> entries() {
        return mapped.entries();
    }

    /** True when a tensor of that name exists. */
    public boolean contains(String name) {
        return mapped.contains(name);
    }

    /** Loads one tensor as a CPU tensor of its stored dtype. */
    public Tensor load(String name) throws IOException {
        return SafetensorsFile.load(mapped.fileOf(name), name);
    }

    @Override
    public void close() throws IOException {
        mapped.close();
    }
}
