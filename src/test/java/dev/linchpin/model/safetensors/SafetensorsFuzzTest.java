package dev.linchpin.model.safetensors;

import static dev.linchpin.model.safetensors.SafetensorsBytes.file;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.linchpin.testing.TorchTesting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Truncated, bit-flipped and hostile files: the only acceptable outcomes are a successful read or a
 * {@link SafetensorsException} naming the file (and the tensor where one is at fault).
 */
class SafetensorsFuzzTest {
    @TempDir Path dir;

    /** Opens and loads every tensor; returns the exception, or null when the file was accepted. */
    private static SafetensorsException readAll(Path p) {
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(p)) {
            for (String name : f.tensors().keySet()) f.load(name);
            return null;
        } catch (SafetensorsException e) {
            assertTrue(e.getMessage().contains(p.toString()), "message names the file: " + e.getMessage());
            return e;
        } catch (Throwable t) {
            fail("expected success or SafetensorsException for " + p + ", got " + t, t);
            return null;
        }
    }

    @Test
    void everyTruncationIsRejected() throws Exception {
        byte[] valid = SafetensorsBytes.validSample();
        for (int len = 0; len < valid.length; len++) {
            Path p = dir.resolve("trunc-" + len + ".safetensors");
            Files.write(p, java.util.Arrays.copyOf(valid, len));
            if (readAll(p) == null) fail("truncation to " + len + " of " + valid.length + " bytes was accepted");
        }
        Path whole = dir.resolve("whole.safetensors");
        Files.write(whole, valid);
        if (readAll(whole) != null) fail("the untouched sample must read");
    }

    @Test
    void randomBitFlipsAndByteSplicesNeverCrash() throws Exception {
        long seed = TorchTesting.seed("safetensors fuzz");
        Random rnd = new Random(seed);
        byte[] valid = SafetensorsBytes.validSample();
        int rejected = 0;
        for (int round = 0; round < 600; round++) {
            byte[] b = valid.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int at = rnd.nextInt(b.length);
                if (rnd.nextBoolean()) b[at] ^= (byte) (1 << rnd.nextInt(8));
                else b[at] = (byte) "{}[]\",:0123456789-e. xFIBUL".charAt(rnd.nextInt(27));
            }
            if (rnd.nextInt(10) == 0) b = java.util.Arrays.copyOf(b, b.length + rnd.nextInt(9)); // trailing junk
            Path p = dir.resolve("fuzz.safetensors");
            Files.write(p, b);
            if (readAll(p) != null) rejected++;
        }
        assertTrue(rejected > 100, "most mutations hit the header or the length and must be rejected: " + rejected);
    }

    static Stream<Arguments> hostileHeaders() {
        String ok = "\"ok\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        return Stream.of(
                Arguments.of("not json", "{\"a\": [1, 2", 4, null),
                Arguments.of("json array", "[1,2,3]", 4, null),
                Arguments.of("json string", "\"hello\"", 4, null),
                Arguments.of("binary junk", "\u0000\u00ff\u0001", 4, null),
                Arguments.of("duplicate names", "{" + ok + "," + ok + "}", 4, null),
                Arguments.of("unknown dtype", "{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("dtype not string", "{\"x\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("negative shape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("fractional shape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("huge shape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("overflowing shape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("byte count overflow", "{\"x\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("shape/span mismatch", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("offsets past file", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}", 4, "x"),
                Arguments.of("offsets far past file", "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", 4, "x"),
                Arguments.of("end before begin", "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "x"),
                Arguments.of("negative offset", "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[-4,0]}}", 4, "x"),
                Arguments.of("three offsets", "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4,8]}}", 4, "x"),
                Arguments.of("overlap", "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                        + "\"y\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4, "y"),
                Arguments.of("gap", "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4, "x"),
                Arguments.of("buffer not covered", "{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 4, null),
                Arguments.of("missing shape", "{\"x\":{\"dtype\":\"U8\",\"data_offsets\":[0,4]}}", 4, "x"),
                Arguments.of("extra key", "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4],\"evil\":1}}", 4, "x"),
                Arguments.of("entry not object", "{\"x\":[1,2]}", 4, "x"),
                Arguments.of("metadata not strings", "{\"__metadata__\":{\"a\":1}," + ok + "}", 4, null),
                Arguments.of("bool holds 2", "{\"x\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, "x"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileHeaders")
    void hostileHeaderIsRejectedNamingFileAndTensor(String label, String header, int dataBytes, String tensor) throws Exception {
        Path p = dir.resolve(label.replaceAll("[^A-Za-z0-9]", "_") + ".safetensors");
        byte[] data = new byte[dataBytes];
        java.util.Arrays.fill(data, (byte) 2);
        Files.write(p, file(header, data));
        SafetensorsException e = readAll(p);
        if (e == null) fail(label + ": accepted");
        if (tensor != null) assertTrue(e.getMessage().contains("'" + tensor + "'"), label + ": names the tensor: " + e.getMessage());
    }

    @Test
    void hostileLengthPrefixes() throws Exception {
        byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
        long[] lengths = {-1L, Long.MIN_VALUE, 1L << 40, SafetensorsHeader.MAX_HEADER_BYTES + 1, 3, 0, 1};
        for (long n : lengths) {
            Path p = dir.resolve("len.safetensors");
            Files.write(p, file(n, json, new byte[0]));
            if (readAll(p) == null) fail("length prefix " + n + " was accepted");
        }
    }

    @Test
    void shardIndexMustNameLocalShardsHoldingTheirTensors() throws Exception {
        Files.write(dir.resolve("model-1.safetensors"), SafetensorsBytes.validSample());
        String[] badIndexes = {
            "{\"weight_map\":{\"a\":\"../model-1.safetensors\"}}",
            "{\"weight_map\":{\"a\":\"/etc/passwd\"}}",
            "{\"weight_map\":{\"zzz\":\"model-1.safetensors\"}}",
            "{\"weight_map\":{\"a\":\"model-1.safetensors\"}}",          // b and c left unlisted
            "{\"weight_map\":{\"a\":\"missing.safetensors\"}}",
            "{\"weight_map\":[]}",
            "not json",
        };
        for (String index : badIndexes) {
            Files.writeString(dir.resolve(SafetensorsWriter.INDEX_FILE), index);
            assertThrows(java.io.IOException.class, () -> SafetensorsCheckpoint.open(dir).close(), index);
        }
        Files.writeString(dir.resolve(SafetensorsWriter.INDEX_FILE),
                "{\"weight_map\":{\"a\":\"model-1.safetensors\",\"b\":\"model-1.safetensors\",\"c\":\"model-1.safetensors\"}}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertTrue(c.contains("b"));
        }
    }
}
