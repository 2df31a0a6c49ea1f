package dev.linchpin.model.safetensors;

import static dev.linchpin.model.safetensors.SafetensorsBytes.file;
import static dev.linchpin.model.safetensors.SafetensorsBytes.le;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.linchpin.testing.TorchTesting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by hand from the format description are read back with the right dtypes, shapes and values. */
class SafetensorsReadTest {
    static {
        TorchTesting.seed("SafetensorsReadTest"); // loads libtorch
    }

    @TempDir Path dir;

    @Test
    void readsEveryDtypeFromHandWrittenBytes() throws Exception {
        // Bit patterns from the IEEE/bfloat16 definitions: bf16 0x3F80 = 1.0, 0xBF00 = -0.5;
        // f16 0x3C00 = 1.0, 0xC000 = -2.0, 0x3555 ≈ 0.333251953125.
        String header = "{\"f32\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                + "\"f16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[12,18]},"
                + "\"f64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[18,26]},"
                + "\"i64\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[26,42]},"
                + "\"i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[42,46]},"
                + "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[46,48]},"
                + "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[48,50]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[50,50]},"
                + "\"__metadata__\":{\"format\":\"pt\",\"note\":\"hand-made\"}}";
        byte[] data = concat(le(1.5f, -2f), le((short) 0x3F80, (short) 0xBF00),
                le((short) 0x3C00, (short) 0xC000, (short) 0x3555), le(Math.PI), le(-5L, Long.MAX_VALUE),
                le(123456), new byte[] {(byte) 200, 7}, new byte[] {1, 0});
        Path p = dir.resolve("hand.safetensors");
        Files.write(p, file(header, data));

        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "note", "hand-made"), f.metadata());
            assertEquals(List.of("f32", "bf16", "f16", "f64", "i64", "i32", "u8", "bool", "empty"), List.copyOf(f.tensors().keySet()));
            assertFloats(f.load("f32"), ScalarType.Float, new long[] {2}, 1.5, -2);
            assertFloats(f.load("bf16"), ScalarType.BFloat16, new long[] {1, 2}, 1.0, -0.5);
            assertFloats(f.load("f16"), ScalarType.Half, new long[] {3}, 1.0, -2.0, 0.333251953125);
            assertFloats(f.load("f64"), ScalarType.Double, new long[] {1}, Math.PI);
            Tensor i64 = f.load("i64");
            assertEquals(ScalarType.Long, i64.scalar_type().intern());
            assertEquals(-5L, i64.get(0).item_long());
            assertEquals(Long.MAX_VALUE, i64.get(1).item_long());
            assertEquals(123456L, f.load("i32").item_long());
            Tensor u8 = f.load("u8");
            assertEquals(ScalarType.Byte, u8.scalar_type().intern());
            assertEquals(200L, u8.get(0).item_long());
            Tensor bool = f.load("bool");
            assertEquals(ScalarType.Bool, bool.scalar_type().intern());
            assertTrue(bool.get(0).item_bool());
            assertEquals(false, bool.get(1).item_bool());
            Tensor empty = f.load("empty");
            assertArrayEquals(new long[] {0, 3}, empty.sizes().vec().get());
        }
    }

    @Test
    void readsHeaderPaddedWithSpacesAndEmptyFile() throws Exception {
        Path p = dir.resolve("padded.safetensors");
        Files.write(p, file("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}      ", le(42f)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(42f, f.load("x").item_float());
        }
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, file("{}", new byte[0]));
        try (SafetensorsFile f = SafetensorsFile.open(empty)) {
            assertTrue(f.tensors().isEmpty());
        }
    }

    private static void assertFloats(Tensor t, ScalarType type, long[] shape, double... expected) {
        assertEquals(type, t.scalar_type().intern());
        assertArrayEquals(shape, t.sizes().vec().get());
        Tensor flat = t.to(ScalarType.Double).reshape(-1);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], flat.get(i).item_double(), 0.0, "element " + i);
    }

    static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
