package dev.linchpin.mine;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Renders one {@link MaskRecord} for a terminal: the response with its critical tokens highlighted
 * (ANSI bold red, or {@code [[token]]} without colour), then, per critical token, each alternative with
 * its probability and what its continuations answered.
 */
public final class MaskRenderer {
    static final String ON = "\u001b[1;31m", OFF = "\u001b[0m";

    private MaskRenderer() {}

    /** The text to print for {@code r}. */
    public static String render(MaskRecord r, boolean color) {
        StringBuilder b = new StringBuilder();
        b.append("id: ").append(r.id()).append("   gold: ").append(r.gold()).append("   answer: ").append(r.answer())
                .append("   ").append(r.kept() ? "kept" : "dropped (response verified wrong)").append('\n');
        b.append("question: ").append(r.question()).append("\n\n");
        Set<Integer> critical = new HashSet<>(r.critical());
        List<String> tokens = r.responseTokens();
        for (int t = 0; t < tokens.size(); t++) {
            String tok = tokens.get(t);
            if (critical.contains(t)) b.append(color ? ON + tok + OFF : "[[" + tok + "]]");
            else b.append(tok);
        }
        b.append("\n\n");
        if (!r.kept()) return b.toString();
        b.append(String.format(Locale.ROOT, "%d of %d examined positions critical%n", r.critical().size(), r.positions().size()));
        for (MaskRecord.Position p : r.positions()) {
            if (!p.critical()) continue;
            b.append(String.format(Locale.ROOT, "  t=%d %s%s%n", p.t(), quote(tokens.get(p.t())),
                    p.p() == null ? "" : String.format(Locale.ROOT, " (p=%.3f)", p.p())));
            for (MaskRecord.Alternative a : p.alternatives()) {
                b.append(String.format(Locale.ROOT, "      instead %s (p=%.3f) -> ", quote(a.text()), a.p()));
                StringBuilder answers = new StringBuilder();
                for (MaskRecord.Continuation c : a.continuations()) {
                    if (answers.length() > 0) answers.append(", ");
                    answers.append(c.answer() == null ? "no answer" : c.answer()).append(c.correct() ? " (right)" : " (wrong)");
                }
                b.append(answers).append('\n');
            }
        }
        return b.toString();
    }

    /** A token in quotes with its control characters visible. */
    static String quote(String token) {
        return "\"" + token.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
    }
}
