package dev.linchpin.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes safetensors files the way Hugging Face's implementation does: tensors sorted by name and
 * laid out back to back, the JSON header right-padded with spaces so the data starts 8-byte aligned,
 * and optional string metadata. Files are written to a temporary sibling and renamed into place, so
 * a crash never leaves a half-written checkpoint under the final name.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WRITE_CHUNK = 1L << 30;

    /** Hugging Face's name for the sharded-checkpoint index. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (any device, any supported dtype, stored as-is) to {@code file} atomically.
     *
     * @param metadata string map stored as "__metadata__"; may be null or empty
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new TreeMap<>(metadata));
        List<Tensor> ordered = new ArrayList<>();
        long offset = 0;
        // Every libtorch temporary (the CPU copies included) lives until the file is written.
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                String name = e.getKey();
                Tensor t = e.getValue();
                if (name.isEmpty() || name.equals("__metadata__")) throw new IllegalArgumentException("invalid tensor name '" + name + "'");
                if (t == null || t.isNull() || !t.defined()) throw new IllegalArgumentException("tensor '" + name + "' is undefined");
                DType dtype = TorchDTypes.fromTorch(t.scalar_type());
                Tensor cpu = t.detach().cpu().contiguous();
                long bytes = cpu.nbytes();
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("dtype", dtype.name());
                entry.put("shape", cpu.sizes().vec().get());
                entry.put("data_offsets", new long[] {offset, offset + bytes});
                header.put(name, entry);
                offset += bytes;
                ordered.add(cpu);
            }
            byte[] json = JSON.writeValueAsBytes(header);
            int padded = (json.length + 7) / 8 * 8;
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            head.flip();

            Path tmp = temporarySibling(file);
            try {
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    writeFully(out, head);
                    for (Tensor t : ordered) writeTensor(out, t);
                    out.force(true);
                }
                moveIntoPlace(tmp, file);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes a string (e.g. a JSON document) atomically, with the same temp-file + rename discipline. */
    public static void writeTextAtomically(Path file, String text) throws IOException {
        writeBytesAtomically(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes bytes atomically (temporary sibling, then rename). */
    public static void writeBytesAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = temporarySibling(file);
        try {
            Files.write(tmp, bytes, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes a sharded checkpoint: {@code model-0000i-of-0000n.safetensors} files of at most
     * {@code maxShardBytes} each (a single larger tensor gets a shard of its own) and the
     * {@value #INDEX_FILE} weight map. With one shard, writes a plain {@code model.safetensors}.
     *
     * @return the files written, index last
     */
    public static List<Path> writeSharded(Path dir, Map<String, Tensor> tensors, Map<String, String> metadata,
            long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive");
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new TreeMap<>();
        long currentBytes = 0, total = 0;
        for (Map.Entry<String, Tensor> e : new TreeMap<>(tensors).entrySet()) {
            long bytes = e.getValue().nbytes();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new TreeMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
            total += bytes;
        }
        shards.add(current);
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path single = dir.resolve("model.safetensors");
            write(single, shards.get(0), metadata);
            written.add(single);
            return written;
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(dir.resolve(name), shards.get(i), metadata);
            written.add(dir.resolve(name));
            for (String tensor : shards.get(i).keySet()) weightMap.put(tensor, name);
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", total));
        index.put("weight_map", weightMap);
        Path indexFile = dir.resolve(INDEX_FILE);
        writeTextAtomically(indexFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
        written.add(indexFile);
        return written;
    }

    private static void writeTensor(FileChannel out, Tensor t) throws IOException {
        long bytes = t.nbytes();
        if (bytes == 0) return;
        BytePointer data = new BytePointer(t.data_ptr());
        try {
            for (long done = 0; done < bytes; done += WRITE_CHUNK) {
                long chunk = Math.min(WRITE_CHUNK, bytes - done);
                writeFully(out, data.position(done).limit(done + chunk).asByteBuffer());
            }
        } finally {
            data.position(0).limit(0);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) out.write(buffer);
    }

    private static Path temporarySibling(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        return Files.createTempFile(parent, "." + file.getFileName() + ".", ".tmp");
    }

    private static void moveIntoPlace(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
