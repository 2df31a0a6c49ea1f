package dev.linchpin.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

/**
 * A safetensors file read through memory mappings, in pure Java (no libtorch, so the rollout engine's
 * loader runs where libtorch is absent). {@link #open} reads and validates the whole header (see
 * {@link SafetensorsHeader}); {@link #forEachChunk} maps one tensor's bytes a chunk at a time and
 * unmaps each chunk as soon as its visitor returns, so reading a checkpoint never keeps more than one
 * chunk of it resident (a mapping left to the garbage collector keeps its pages in the process's
 * resident set until some later GC).
 */
public final class MappedSafetensors implements AutoCloseable {
    /** Largest region mapped at once (a MappedByteBuffer is int-indexed; 1 GiB keeps chunks element-aligned). */
    public static final long MAX_CHUNK_BYTES = 1L << 30;

    /** Receives one chunk of a tensor's bytes. */
    @FunctionalInterface
    public interface ChunkVisitor {
        /**
         * @param byteOffset where the chunk starts within the tensor's data
         * @param bytes      read-only, little-endian, position 0; valid only until this call returns (it is
         *                   unmapped afterwards: keep no view of it, nor its address)
         */
        void visit(long byteOffset, ByteBuffer bytes) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final SafetensorsHeader header;

    private MappedSafetensors(Path path, FileChannel channel, long dataStart, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.header = header;
    }

    /** Opens and validates a file; throws {@link SafetensorsException} naming the file for any defect. */
    public static MappedSafetensors open(Path path) throws IOException {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw SafetensorsException.of(path, "big-endian hosts are not supported (safetensors data is little-endian)");
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = channel.size();
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size >= 8) readFully(channel, lengthBytes, 0);
            long n = SafetensorsHeader.checkHeaderLength(path, size >= 8 ? lengthBytes.getLong(0) : 0, size);
            ByteBuffer json = ByteBuffer.allocate((int) n);
            readFully(channel, json, 8);
            SafetensorsHeader header = SafetensorsHeader.parse(path, json.array(), size - 8 - n);
            return new MappedSafetensors(path, channel, 8 + n, header);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        while (into.hasRemaining()) {
            int read = channel.read(into, position + into.position());
            if (read < 0) throw new java.io.EOFException("unexpected end of file");
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** All tensors, in header order. */
    public Map<String, TensorEntry> tensors() {
        return header.tensors();
    }

    /** The "__metadata__" map (empty when absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** The header entry for {@code name}; throws naming the file when there is none. */
    public TensorEntry entry(String name) throws SafetensorsException {
        TensorEntry e = header.tensors().get(name);
        if (e == null) throw SafetensorsException.of(path, name, "not in this file");
        return e;
    }

    /**
     * Hands the bytes of tensor {@code name} to {@code visitor} in order, in mapped chunks of at most
     * {@code maxChunkBytes} (rounded down to whole elements; at most {@link #MAX_CHUNK_BYTES}). Each
     * chunk is unmapped when its visit returns. A tensor of zero bytes gets no visit. I/O errors name
     * the file and tensor.
     */
    public void forEachChunk(String name, long maxChunkBytes, ChunkVisitor visitor) throws IOException {
        TensorEntry e = entry(name);
        int element = e.dtype().byteSize();
        long chunkBytes = Math.min(maxChunkBytes, MAX_CHUNK_BYTES) / element * element;
        if (chunkBytes <= 0) throw new IllegalArgumentException("chunk of " + maxChunkBytes + " bytes holds no " + e.dtype());
        long length = e.byteLength();
        for (long done = 0; done < length; done += chunkBytes) {
            long chunk = Math.min(chunkBytes, length - done);
            MappedByteBuffer mapped;
            try {
                mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin() + done, chunk);
            } catch (IOException ex) {
                throw new SafetensorsException(path + ": tensor '" + name + "': cannot map its data: " + ex.getMessage(), ex);
            }
            try {
                visitor.visit(done, mapped.duplicate().order(ByteOrder.LITTLE_ENDIAN));
            } finally {
                Unmapper.unmap(mapped);
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "MappedSafetensors[" + path + ", " + header.tensors().size() + " tensors, "
                + Arrays.toString(header.tensors().keySet().stream().limit(4).toArray()) + "...]";
    }
}
