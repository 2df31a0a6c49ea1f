package dev.linchpin.report;

import java.util.Locale;

/** HTML text helpers: everything that comes from a run's files passes through {@link #escape}. */
final class Html {
    private Html() {}

    /** Escapes text for element content and double- or single-quoted attribute values. */
    static String escape(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * JSON text made safe inside {@code <script type="application/json">}: '<', '>' and '&' only occur in
     * JSON strings, where their \\u escapes mean the same, so "&lt;/script&gt;" can never close the element.
     */
    static String scriptJson(String json) {
        return json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
    }

    /** A fraction as a percentage with one decimal ("12.5 %"), or "–" when unknown. */
    static String percent(Double v) {
        return v == null || !Double.isFinite(v) ? "–" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    /** A number with {@code digits} decimals, or "–" when unknown. */
    static String number(Double v, int digits) {
        return v == null || !Double.isFinite(v) ? "–" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    /** Seconds as "12.3 s" or "4 min 05 s", or "–" when unknown. */
    static String seconds(Double s) {
        if (s == null || !Double.isFinite(s)) return "–";
        if (s < 60) return String.format(Locale.ROOT, "%.1f s", s);
        long whole = Math.round(s);
        return String.format(Locale.ROOT, "%d min %02d s", whole / 60, whole % 60);
    }

    /** A lower-case slug usable in an element id. */
    static String slug(String s) {
        String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]+", "-");
        return t.isEmpty() ? "x" : t;
    }
}
