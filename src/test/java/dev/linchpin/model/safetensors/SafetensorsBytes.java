package dev.linchpin.model.safetensors;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds safetensors files byte by byte, straight from the format description (no writer code involved). */
final class SafetensorsBytes {
    private SafetensorsBytes() {}

    /** 8-byte little-endian header length, the header JSON as given, then the data bytes. */
    static byte[] file(String headerJson, byte[] data) {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        return file(json.length, json, data);
    }

    static byte[] file(long declaredLength, byte[] json, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredLength).array());
        out.writeBytes(json);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] le(Object... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object v : values) {
            ByteBuffer b;
            if (v instanceof Float f) b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f);
            else if (v instanceof Double d) b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(d);
            else if (v instanceof Long l) b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(l);
            else if (v instanceof Integer i) b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i);
            else if (v instanceof Short s) b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(s);
            else if (v instanceof Byte y) b = ByteBuffer.allocate(1).put(y);
            else throw new IllegalArgumentException(String.valueOf(v));
            out.writeBytes(b.array());
        }
        return out.toByteArray();
    }

    /** A small valid file with three dtypes, used as the seed for fuzzing. */
    static byte[] validSample() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[16,22]},"
                + "\"c\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[22,30]}}";
        byte[] data = le(1f, 2f, 3f, 4f, (short) 0x3F80, (short) 0xBF00, (short) 0x4040, 7L);
        return file(header, data);
    }
}
