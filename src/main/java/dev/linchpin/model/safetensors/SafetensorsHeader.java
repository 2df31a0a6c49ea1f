package dev.linchpin.model.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The validated header of a safetensors file. Parsing is pure Java and checks everything before a
 * byte of tensor data is touched: the header is a JSON object without duplicate keys; every tensor
 * has a known dtype, a shape of non-negative integers, and data_offsets [begin, end] with
 * numel × element size = end − begin (no overflow); the spans lie inside the data buffer, do not
 * overlap and cover it without gaps (as the reference Rust implementation requires).
 */
public final class SafetensorsHeader {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    public static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;

    private static final String METADATA_KEY = "__metadata__";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Map<String, TensorEntry> tensors;
    private final Map<String, String> metadata;

    private SafetensorsHeader(Map<String, TensorEntry> tensors, Map<String, String> metadata) {
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Tensors in header order, by name. */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** The optional "__metadata__" string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * Checks the 8-byte length prefix against the file size and returns the header length N.
     *
     * @param file     named in errors
     * @param rawLength the little-endian u64 as a (possibly negative) Java long
     * @param fileSize total file size in bytes
     */
    static long checkHeaderLength(Path file, long rawLength, long fileSize) throws SafetensorsException {
        if (fileSize < 8) throw SafetensorsException.of(file, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
        if (rawLength < 0 || rawLength > MAX_HEADER_BYTES) {
            throw SafetensorsException.of(file, "header length " + Long.toUnsignedString(rawLength)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (rawLength > fileSize - 8) {
            throw SafetensorsException.of(file, "header length " + rawLength + " runs past the end of the file ("
                    + fileSize + " bytes): truncated or corrupt");
        }
        if (rawLength < 2) throw SafetensorsException.of(file, "header length " + rawLength + " is too short for a JSON object");
        return rawLength;
    }

    /**
     * Parses and validates header JSON bytes.
     *
     * @param file       named in errors
     * @param json       the N header bytes (UTF-8 JSON, possibly right-padded with spaces)
     * @param bufferSize bytes after the header (file size − 8 − N)
     */
    public static SafetensorsHeader parse(Path file, byte[] json, long bufferSize) throws SafetensorsException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw SafetensorsException.of(file, "header is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException | RuntimeException e) {
            throw SafetensorsException.of(file, "header is not valid JSON: " + e);
        }
        if (root == null || !root.isObject()) throw SafetensorsException.of(file, "header is not a JSON object");

        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (name.equals(METADATA_KEY)) {
                parseMetadata(file, field.getValue(), metadata);
            } else {
                tensors.put(name, parseEntry(file, name, field.getValue(), bufferSize));
            }
        }
        checkCoverage(file, tensors, bufferSize);
        return new SafetensorsHeader(tensors, metadata);
    }

    private static void parseMetadata(Path file, JsonNode node, Map<String, String> out) throws SafetensorsException {
        if (!node.isObject()) throw SafetensorsException.of(file, "__metadata__ must be a JSON object of strings");
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw SafetensorsException.of(file, "__metadata__ value for '" + e.getKey() + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorEntry parseEntry(Path file, String name, JsonNode node, long bufferSize)
            throws SafetensorsException {
        if (name.isEmpty()) throw SafetensorsException.of(file, "a tensor has an empty name");
        if (!node.isObject()) throw SafetensorsException.of(file, name, "entry is not a JSON object");
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw SafetensorsException.of(file, name, "unexpected key '" + key + "'");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw SafetensorsException.of(file, name, "missing or non-string dtype");
        DType dtype = DType.fromHeaderName(dtypeNode.textValue());
        if (dtype == null) {
            throw SafetensorsException.of(file, name, "unsupported dtype '" + dtypeNode.textValue() + "' (supported: "
                    + java.util.Arrays.toString(DType.values()) + ")");
        }

        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw SafetensorsException.of(file, name, "missing or non-array shape");
        if (shapeNode.size() > 64) throw SafetensorsException.of(file, name, "shape has " + shapeNode.size() + " dimensions");
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(file, name, shapeNode.get(i), "shape[" + i + "]");
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw SafetensorsException.of(file, name, "shape " + shapeNode + " overflows the element count");
            }
        }

        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw SafetensorsException.of(file, name, "data_offsets must be an array [begin, end]");
        }
        long begin = nonNegativeLong(file, name, offsets.get(0), "data_offsets[0]");
        long end = nonNegativeLong(file, name, offsets.get(1), "data_offsets[1]");
        if (end < begin) throw SafetensorsException.of(file, name, "data_offsets [" + begin + ", " + end + "] end before begin");
        if (end > bufferSize) {
            throw SafetensorsException.of(file, name, "data_offsets [" + begin + ", " + end + "] run past the data buffer ("
                    + bufferSize + " bytes): truncated or corrupt file");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw SafetensorsException.of(file, name, "shape " + shapeNode + " × " + dtype + " overflows the byte count");
        }
        if (expected != end - begin) {
            throw SafetensorsException.of(file, name, "shape " + shapeNode + " × " + dtype + " is " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(Path file, String name, JsonNode n, String what) throws SafetensorsException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw SafetensorsException.of(file, name, what + " is " + n + ", expected a non-negative integer");
        }
        return n.longValue();
    }

    private static void checkCoverage(Path file, Map<String, TensorEntry> tensors, long bufferSize)
            throws SafetensorsException {
        List<TensorEntry> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        long cursor = 0;
        TensorEntry previous = null;
        for (TensorEntry e : sorted) {
            if (e.begin() < cursor) {
                throw SafetensorsException.of(file, e.name(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlap tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (e.begin() > cursor) {
                throw SafetensorsException.of(file, e.name(), "gap of " + (e.begin() - cursor)
                        + " bytes before its data_offsets [" + e.begin() + ", " + e.end() + "]");
            }
            cursor = e.end();
            previous = e;
        }
        if (cursor != bufferSize) {
            throw SafetensorsException.of(file, "tensors cover " + cursor + " bytes of a " + bufferSize
                    + "-byte data buffer: truncated, padded or corrupt file");
        }
    }
}
