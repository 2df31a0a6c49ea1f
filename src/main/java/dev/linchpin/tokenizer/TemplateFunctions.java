package dev.linchpin.tokenizer;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * The global functions transformers adds to the chat-template environment, as static methods that
 * jinjava can bind: {@code raise_exception(message)} and {@code strftime_now(format)}.
 */
final class TemplateFunctions {
    /** The message of the last {@code raise_exception} on this thread; jinjava wraps the exception itself. */
    static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private TemplateFunctions() {}

    /** {@code raise_exception(message)}: aborts rendering with the template's message. */
    public static Object raiseException(Object message) {
        String text = String.valueOf(message);
        RAISED.set(text);
        throw new IllegalStateException(text);
    }

    /**
     * {@code strftime_now(format)}: the local time formatted with the C directives templates use
     * ({@code %Y %y %m %d %e %B %b %A %a %H %I %M %S %p %%}); other directives are copied verbatim.
     */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                b.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'Y' -> b.append(t.getYear());
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> b.append(String.format("%02d", t.getMonthValue()));
                case 'd' -> b.append(String.format("%02d", t.getDayOfMonth()));
                case 'e' -> b.append(String.format("%2d", t.getDayOfMonth()));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'H' -> b.append(String.format("%02d", t.getHour()));
                case 'I' -> b.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> b.append(String.format("%02d", t.getMinute()));
                case 'S' -> b.append(String.format("%02d", t.getSecond()));
                case 'p' -> b.append(t.format(DateTimeFormatter.ofPattern("a", Locale.ENGLISH)));
                case '%' -> b.append('%');
                default -> b.append('%').append(d);
            }
        }
        return b.toString();
    }
}
