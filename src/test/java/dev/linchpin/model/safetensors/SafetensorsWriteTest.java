package dev.linchpin.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.linchpin.testing.TorchTesting;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's layout follows the format (checked byte by byte) and everything written reads back bit-identical. */
public class SafetensorsWriteTest {
    @TempDir Path dir;

    private static Map<String, Tensor> sampleTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("z.f32", TorchTesting.randn(ScalarType.Float, 3, 5));
        m.put("a.bf16", TorchTesting.randn(ScalarType.Float, 4, 2).to(ScalarType.BFloat16));
        m.put("m.f16", TorchTesting.randn(ScalarType.Float, 7).to(ScalarType.Half));
        m.put("f64", TorchTesting.randn(ScalarType.Double, 2, 2));
        m.put("i64", torch.arange(TorchTesting.s(-3), TorchTesting.s(9)).to(ScalarType.Long));
        m.put("i32", torch.arange(TorchTesting.s(5)).to(ScalarType.Int));
        m.put("u8", torch.arange(TorchTesting.s(250), TorchTesting.s(256)).to(ScalarType.Byte));
        m.put("mask", torch.arange(TorchTesting.s(6)).remainder(TorchTesting.s(2)).eq(TorchTesting.s(0)));
        m.put("transposed", TorchTesting.randn(ScalarType.Float, 3, 4).t());   // non-contiguous input
        m.put("scalar", TorchTesting.randn(ScalarType.Float));
        return m;
    }

    @Test
    void layoutMatchesTheFormatAndRoundTripsBitIdentical() throws Exception {
        TorchTesting.seed("safetensors write");
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> tensors = sampleTensors();
            Path p = dir.resolve("out.safetensors");
            SafetensorsWriter.write(p, tensors, Map.of("format", "pt"));

            byte[] bytes = Files.readAllBytes(p);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, (8 + n) % 8, "data must start 8-byte aligned");
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String trimmed = header.stripTrailing();
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
            JsonNode json = new ObjectMapper().readTree(trimmed);
            List<String> names = new ArrayList<>();
            json.fieldNames().forEachRemaining(names::add);
            assertEquals("__metadata__", names.get(0));
            List<String> sorted = new ArrayList<>(tensors.keySet());
            sorted.sort(null);
            assertEquals(sorted, names.subList(1, names.size()), "tensors sorted by name");
            long cursor = 0;
            for (String name : sorted) {   // back to back, in name order, sized shape × dtype
                JsonNode e = json.get(name);
                Tensor t = tensors.get(name);
                assertEquals(TorchDTypes.fromTorch(t.scalar_type()).name(), e.get("dtype").asText());
                assertEquals(cursor, e.get("data_offsets").get(0).asLong());
                cursor += t.numel() * t.element_size();
                assertEquals(cursor, e.get("data_offsets").get(1).asLong());
            }
            assertEquals(8 + n + cursor, bytes.length);
            // The f32 tensor's bytes are the little-endian floats of the tensor, row-major.
            long begin = 8 + n + json.get("z.f32").get("data_offsets").get(0).asLong();
            Tensor z = tensors.get("z.f32").contiguous();
            ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 15; i++) {
                assertEquals(z.reshape(-1).get(i).item_float(), data.getFloat((int) begin + 4 * i), 0f);
            }

            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertEquals(Map.of("format", "pt"), f.metadata());
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) assertBitIdentical(e.getKey(), e.getValue(), f.load(e.getKey()));
            }
            try (Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of(p), left.toList(), "no temporary files left behind");
            }
        }
    }

    @Test
    void shardedCheckpointRoundTrips() throws Exception {
        TorchTesting.seed("safetensors sharded");
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> tensors = sampleTensors();
            List<Path> files = SafetensorsWriter.writeSharded(dir, tensors, Map.of("format", "pt"), 64);
            assertTrue(files.size() > 2, "several shards: " + files);
            assertEquals(SafetensorsWriter.INDEX_FILE, files.get(files.size() - 1).getFileName().toString());
            JsonNode index = new ObjectMapper().readTree(files.get(files.size() - 1).toFile());
            long total = tensors.values().stream().mapToLong(t -> t.numel() * t.element_size()).sum();
            assertEquals(total, index.get("metadata").get("total_size").asLong());
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
                assertEquals(tensors.keySet(), c.entries().keySet());
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) assertBitIdentical(e.getKey(), e.getValue(), c.load(e.getKey()));
            }
        }
    }

    public static void assertBitIdentical(String name, Tensor expected, Tensor actual) {
        assertEquals(expected.scalar_type().intern(), actual.scalar_type().intern(), name);
        assertArrayEquals(expected.sizes().vec().get(), actual.sizes().vec().get(), name);
        assertArrayEquals(bytesOf(expected), bytesOf(actual), name + " bytes");
    }

    public static byte[] bytesOf(Tensor t) {
        Tensor c = t.contiguous();
        byte[] out = new byte[(int) c.nbytes()];
        if (out.length > 0) new org.bytedeco.javacpp.BytePointer(c.data_ptr()).get(out);
        return out;
    }

}
