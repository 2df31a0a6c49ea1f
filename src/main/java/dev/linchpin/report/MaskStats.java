package dev.linchpin.report;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MaskRecordReader;
import dev.linchpin.mine.MasksFileException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the report takes from {@code masks.jsonl}, read in one streaming pass (the file can be large):
 * counts, each kept example's critical fraction (critical / response tokens), and a few kept examples
 * to show whole.
 *
 * @param examples        records in the file (kept and dropped)
 * @param kept            records whose greedy response was verified correct
 * @param responseTokens  Σ response tokens over kept records
 * @param critical        Σ critical positions over kept records
 * @param examined        Σ examined positions over kept records
 * @param perExample      each kept record with at least one response token: id, critical, response tokens
 * @param shown           up to the requested number of kept records to show (those with a critical token first)
 * @param truncatedTail   whether an incomplete last line (mining still running, or killed) was ignored
 */
public record MaskStats(long examples, long kept, long responseTokens, long critical, long examined,
        List<ExampleFraction> perExample, List<MaskRecord> shown, boolean truncatedTail) {

    public MaskStats {
        perExample = List.copyOf(perExample);
        shown = List.copyOf(shown);
    }

    /** One kept example's critical count over its response length. */
    public record ExampleFraction(String id, int critical, int responseTokens) {
        public double fraction() {
            return (double) critical / responseTokens;
        }
    }

    /** Σ critical / Σ response tokens over the kept examples (null when there are none). */
    public Double criticalFraction() {
        return responseTokens == 0 ? null : (double) critical / responseTokens;
    }

    /**
     * Reads {@code file}, keeping up to {@code show} records whole.
     *
     * @throws ReportInputException naming file and line for a malformed record followed by more lines, or a
     *                              record whose indices do not fit its response
     */
    public static MaskStats read(Path file, int show) throws IOException {
        List<ExampleFraction> per = new ArrayList<>();
        List<MaskRecord> withCritical = new ArrayList<>(), without = new ArrayList<>();
        long[] counts = new long[5];   // examples, kept, response tokens, critical, examined positions
        boolean truncated;
        try {
            truncated = MaskRecordReader.forEach(file, (number, r) -> {
                check(file, number, r);
                counts[0]++;
                if (!r.kept()) return true;
                counts[1]++;
                int n = r.responseIds().length;
                counts[2] += n;
                counts[3] += r.critical().size();
                counts[4] += r.positions().size();
                if (n > 0) per.add(new ExampleFraction(r.id(), r.critical().size(), n));
                if (!r.critical().isEmpty() && withCritical.size() < show) withCritical.add(r);
                else if (r.critical().isEmpty() && without.size() < show) without.add(r);
                return true;
            });
        } catch (MasksFileException e) {
            throw new ReportInputException(e);
        }
        List<MaskRecord> shown = new ArrayList<>(withCritical);
        for (int i = 0; shown.size() < show && i < without.size(); i++) shown.add(without.get(i));
        return new MaskStats(counts[0], counts[1], counts[2], counts[3], counts[4], per, shown, truncated);
    }

    /** Indices that do not fit the response would make the page point at tokens that do not exist. */
    private static void check(Path file, long line, MaskRecord r) throws ReportInputException {
        int n = r.responseIds() == null ? -1 : r.responseIds().length;
        if (n < 0 || r.responseTokens() == null || r.critical() == null || r.positions() == null) {
            throw new ReportInputException(file, line, "record " + r.id() + " lacks response_ids, response_tokens, critical or positions", null);
        }
        if (r.responseTokens().size() != n) {
            throw new ReportInputException(file, line, "record " + r.id() + " has " + r.responseTokens().size()
                    + " response_tokens but " + n + " response_ids", null);
        }
        for (Integer t : r.critical()) {
            if (t == null || t < 0 || t >= n) throw new ReportInputException(file, line, "record " + r.id() + ": critical position " + t + " outside the response of " + n + " tokens", null);
        }
        for (MaskRecord.Position p : r.positions()) {
            if (p.t() < 0 || p.t() >= n) throw new ReportInputException(file, line, "record " + r.id() + ": position t = " + p.t() + " outside the response of " + n + " tokens", null);
            if (p.alternatives() == null) throw new ReportInputException(file, line, "record " + r.id() + ": position t = " + p.t() + " has no alternatives list", null);
            for (MaskRecord.Alternative a : p.alternatives()) {
                if (a.continuations() == null) throw new ReportInputException(file, line, "record " + r.id() + ": an alternative at t = " + p.t() + " has no continuations list", null);
            }
        }
    }
}
