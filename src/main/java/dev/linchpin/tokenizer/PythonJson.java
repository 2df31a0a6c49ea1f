package dev.linchpin.tokenizer;

import java.lang.reflect.Array;
import java.util.Map;

/**
 * {@code json.dumps(x, ensure_ascii=False, indent=indent)}, which is what transformers installs as the
 * {@code tojson} filter of chat templates. Its output differs from jinjava's built-in {@code tojson}
 * (compact separators) and from Jackson's: Python writes {@code ", "} and {@code ": "} between items
 * when there is no indent, and {@code ","} plus newlines when there is one.
 */
final class PythonJson {
    private PythonJson() {}

    static String dumps(Object value, Integer indent) {
        StringBuilder b = new StringBuilder();
        write(b, value, indent, 0);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, Integer indent, int depth) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof CharSequence s) {
            string(b, s.toString());
        } else if (v instanceof Boolean bool) {
            b.append(bool ? "true" : "false");
        } else if (v instanceof Double || v instanceof Float) {
            b.append(pythonFloat(((Number) v).doubleValue()));
        } else if (v instanceof Number n) {
            b.append(n.toString());
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                separator(b, first, indent, depth + 1);
                first = false;
                string(b, String.valueOf(e.getKey()));
                b.append(": ");
                write(b, e.getValue(), indent, depth + 1);
            }
            close(b, indent, depth);
            b.append('}');
        } else if (v instanceof Iterable<?> it) {
            if (!it.iterator().hasNext()) {
                b.append("[]");
                return;
            }
            b.append('[');
            boolean first = true;
            for (Object o : it) {
                separator(b, first, indent, depth + 1);
                first = false;
                write(b, o, indent, depth + 1);
            }
            close(b, indent, depth);
            b.append(']');
        } else if (v.getClass().isArray()) {
            java.util.List<Object> list = new java.util.ArrayList<>();
            for (int i = 0; i < Array.getLength(v); i++) {
                list.add(Array.get(v, i));
            }
            write(b, list, indent, depth);
        } else {
            string(b, v.toString());
        }
    }

    private static void separator(StringBuilder b, boolean first, Integer indent, int depth) {
        if (indent == null) {
            if (!first) {
                b.append(", ");
            }
        } else {
            if (!first) {
                b.append(',');
            }
            b.append('\n').append(" ".repeat(indent * depth));
        }
    }

    private static void close(StringBuilder b, Integer indent, int depth) {
        if (indent != null) {
            b.append('\n').append(" ".repeat(indent * depth));
        }
    }

    /** Python's float repr for the common cases: integral values keep ".0", exponents are "e+XX". */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return (long) d + ".0";
        }
        String s = Double.toString(d);
        int e = s.indexOf('E');
        if (e < 0) {
            return s;
        }
        String mantissa = s.substring(0, e);
        if (mantissa.endsWith(".0")) {
            mantissa = mantissa.substring(0, mantissa.length() - 2);
        }
        int exp = Integer.parseInt(s.substring(e + 1));
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
