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
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * A memory-mapped safetensors file. {@link #open} reads and validates the whole header (see
 * {@link SafetensorsHeader}); {@link #load} maps one tensor's bytes (in chunks below 2 GiB, so files
 * and tensors of any size work) and copies them into a fresh CPU libtorch tensor of the stored dtype.
 * Nothing returned aliases the mapping, so closing the file never invalidates a tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest region mapped at once (a MappedByteBuffer is int-indexed). */
    private static final long MAP_CHUNK = 1L << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.header = header;
    }

    /** Opens and validates a file; throws {@link SafetensorsException} naming the file for any defect. */
    public static SafetensorsFile open(Path path) throws IOException {
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
            return new SafetensorsFile(path, channel, 8 + n, header);
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
     * Copies one tensor into a new contiguous CPU tensor of its stored dtype. BOOL data is checked to
     * hold only 0 and 1 (other bytes are undefined behaviour in libtorch).
     */
    public Tensor load(String name) throws IOException {
        TensorEntry e = entry(name);
        Tensor t = torch.empty(e.shape(), new TensorOptions(e.dtype().torchType()), new MemoryFormatOptional());
        long length = e.byteLength();
        if (length == 0) return t;
        BytePointer target = new BytePointer(t.data_ptr());
        try {
            for (long done = 0; done < length; done += MAP_CHUNK) {
                long chunk = Math.min(MAP_CHUNK, length - done);
                MappedByteBuffer src = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin() + done, chunk);
                if (e.dtype() == DType.BOOL) checkBool(e, src);
                ByteBuffer dst = target.position(done).limit(done + chunk).asByteBuffer();
                dst.put(src);
            }
        } catch (IOException ex) {
            throw new SafetensorsException(path + ": tensor '" + name + "': cannot read data: " + ex.getMessage(), ex);
        } finally {
            target.position(0).limit(0);
        }
        return t;
    }

    private void checkBool(TensorEntry e, ByteBuffer src) throws SafetensorsException {
        for (int i = src.position(); i < src.limit(); i++) {
            byte b = src.get(i);
            if (b != 0 && b != 1) throw SafetensorsException.of(path, e.name(), "BOOL element holds byte " + b);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header.tensors().size() + " tensors, "
                + Arrays.toString(header.tensors().keySet().stream().limit(4).toArray()) + "...]";
    }
}
