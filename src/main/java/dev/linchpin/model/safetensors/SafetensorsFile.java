package dev.linchpin.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A safetensors file whose tensors {@link #load} copies into fresh CPU libtorch tensors of the stored
 * dtype. Opening, validation and mapping are {@link MappedSafetensors}'s (pure Java); nothing returned
 * aliases the mapping, so closing the file never invalidates a tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final MappedSafetensors mapped;

    private SafetensorsFile(MappedSafetensors mapped) {
        this.mapped = mapped;
    }

    /** Opens and validates a file; throws {@link SafetensorsException} naming the file for any defect. */
    public static SafetensorsFile open(Path path) throws IOException {
        return new SafetensorsFile(MappedSafetensors.open(path));
    }

    /** The file this was opened from. */
    public Path path() {
        return mapped.path();
    }

    /** All tensors, in header order. */
    public Map<String, TensorEntry> tensors() {
        return mapped.tensors();
    }

    /** The "__metadata__" map (empty when absent). */
    public Map<String, String> metadata() {
        return mapped.metadata();
    }

    /** The header entry for {@code name}; throws naming the file when there is none. */
    public TensorEntry entry(String name) throws SafetensorsException {
        return mapped.entry(name);
    }

    /**
     * Copies one tensor into a new contiguous CPU tensor of its stored dtype. BOOL data is checked to
     * hold only 0 and 1 (other bytes are undefined behaviour in libtorch).
     */
    public Tensor load(String name) throws IOException {
        return load(mapped, name);
    }

    static Tensor load(MappedSafetensors file, String name) throws IOException {
        TensorEntry e = file.entry(name);
        Tensor t = torch.empty(e.shape(), new TensorOptions(TorchDTypes.of(e.dtype())), new MemoryFormatOptional());
        long length = e.byteLength();
        if (length == 0) return t;
        BytePointer target = new BytePointer(t.data_ptr());
        try {
            file.forEachChunk(name, MappedSafetensors.MAX_CHUNK_BYTES, (offset, src) -> {
                if (e.dtype() == DType.BOOL) checkBool(file.path(), e, src);
                ByteBuffer dst = target.position(offset).limit(offset + src.remaining()).asByteBuffer();
                dst.put(src);
            });
        } finally {
            target.position(0).limit(0);
        }
        return t;
    }

    private static void checkBool(Path path, TensorEntry e, ByteBuffer src) throws SafetensorsException {
        for (int i = src.position(); i < src.limit(); i++) {
            byte b = src.get(i);
            if (b != 0 && b != 1) throw SafetensorsException.of(path, e.name(), "BOOL element holds byte " + b);
        }
    }

    @Override
    public void close() throws IOException {
        mapped.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + mapped.path() + ", " + mapped.tensors().size() + " tensors]";
    }
}
