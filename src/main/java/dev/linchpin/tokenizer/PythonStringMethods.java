package dev.linchpin.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python {@code str} methods for jinjava, which otherwise resolves {@code s.method(...)} against
 * {@link String} and so lacks {@code startswith}/{@code endswith}/{@code lstrip}/{@code rstrip} and gives
 * {@code split} Java's regex semantics. Real chat templates (Qwen3: {@code content.split('</think>')[-1]
 * .lstrip('\n')}) rely on the Python ones. Methods not listed here fall through to jinjava.
 *
 * <p>Implemented with Python semantics: {@code startswith/endswith(prefix | tuple)}, {@code strip/lstrip/
 * rstrip([chars])}, {@code split([sep[, maxsplit]])}, {@code rsplit}, {@code replace(old, new[, count])},
 * {@code upper}, {@code lower}, {@code title}, {@code capitalize}, {@code join}, {@code find},
 * {@code count}, {@code isdigit}, {@code isspace}.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name)) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object result;
        switch (name) {
            case "startswith" -> result = anyAffix(s, arg(p, 0, name), true);
            case "endswith" -> result = anyAffix(s, arg(p, 0, name), false);
            case "strip" -> result = strip(s, chars(p), true, true);
            case "lstrip" -> result = strip(s, chars(p), true, false);
            case "rstrip" -> result = strip(s, chars(p), false, true);
            case "split" -> result = split(s, optString(p, 0), optInt(p, 1, -1));
            case "rsplit" -> result = rsplit(s, optString(p, 0), optInt(p, 1, -1));
            case "replace" -> result = replace(s, str(arg(p, 0, name)), str(arg(p, 1, name)), optInt(p, 2, -1));
            case "upper" -> result = s.toUpperCase(java.util.Locale.ROOT);
            case "lower" -> result = s.toLowerCase(java.util.Locale.ROOT);
            case "title" -> result = title(s);
            case "capitalize" -> result = s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
            case "join" -> result = join(s, arg(p, 0, name));
            case "find" -> result = (long) s.indexOf(str(arg(p, 0, name)));
            case "count" -> result = count(s, str(arg(p, 0, name)));
            case "isdigit" -> result = !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> result = !s.isEmpty() && s.chars().allMatch(PythonStringMethods::isPythonSpace);
            default -> {
                return null;
            }
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static Object arg(Object[] p, int i, String method) {
        if (p.length <= i) {
            throw new IllegalArgumentException("str." + method + "() is missing argument " + (i + 1));
        }
        return p[i];
    }

    private static String str(Object o) {
        if (o == null) {
            throw new IllegalArgumentException("expected a string argument, got none");
        }
        return o.toString();
    }

    private static String optString(Object[] p, int i) {
        return p.length > i && p[i] != null ? p[i].toString() : null;
    }

    private static int optInt(Object[] p, int i, int dflt) {
        return p.length > i && p[i] instanceof Number n ? n.intValue() : dflt;
    }

    private static String chars(Object[] p) {
        return optString(p, 0);
    }

    private static boolean anyAffix(String s, Object affix, boolean prefix) {
        if (affix instanceof Collection<?> options) { // Python accepts a tuple of alternatives
            for (Object o : options) {
                if (anyAffix(s, o, prefix)) {
                    return true;
                }
            }
            return false;
        }
        String a = str(affix);
        return prefix ? s.startsWith(a) : s.endsWith(a);
    }

    /** Python's str.isspace characters (Unicode White_Space plus the ASCII separators 0x1c-0x1f). */
    static boolean isPythonSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isPythonSpace(c) : chars.indexOf(c) >= 0;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.charAt(start), chars)) {
            start++;
        }
        while (right && end > start && stripped(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    static List<Object> split(String s, String sep, int maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) { // runs of whitespace, no empty strings
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isPythonSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !isPythonSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("str.split(): empty separator");
        }
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, int maxsplit) {
        if (maxsplit < 0 || sep == null) {
            return split(s, sep, maxsplit);
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("str.rsplit(): empty separator");
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) {
                break;
            }
            out.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    static String replace(String s, String old, String replacement, int count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder b = new StringBuilder();
        int from = 0;
        for (int done = 0; done < count; done++) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            b.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    b.append(s.charAt(at));
                }
                from = at + 1;
            } else {
                from = at + old.length();
            }
        }
        if (from <= s.length()) {
            b.append(s.substring(from));
        }
        return b.toString();
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return b.toString();
    }

    private static String join(String sep, Object items) {
        if (!(items instanceof Iterable<?> it)) {
            throw new IllegalArgumentException("str.join() needs a list");
        }
        StringBuilder b = new StringBuilder();
        boolean first = true;
        for (Object o : it) {
            if (!first) {
                b.append(sep);
            }
            b.append(o);
            first = false;
        }
        return b.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    // Only method calls are handled; property access is left to the rest of the chain.
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
