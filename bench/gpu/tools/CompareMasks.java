import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MaskRecordReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares two masks files of the same data mined on two devices (the GPU kit's mining stage: CPU vs
 * CUDA fp32 vs CUDA bf16): {@code java -cp <bundle lib>/*:tools CompareMasks REFERENCE OTHER LABEL [--require-equal]}.
 *
 * <p>Masks are equal when every example has the same kept flag, greedy response ids, examined
 * positions, alternative token ids, continuation verdicts and critical positions. Probabilities are
 * not compared for equality (two devices round the logits differently), only reported: the largest
 * |Δp| over the response tokens and alternatives of examples whose responses agree. Prints one JSON
 * line (bench "mining_agreement"); with {@code --require-equal} exits 1 unless the masks are equal.
 */
public final class CompareMasks {
    private CompareMasks() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: CompareMasks REFERENCE OTHER LABEL [--require-equal]");
            System.exit(2);
        }
        Map<String, MaskRecord> ref = read(Path.of(args[0])), other = read(Path.of(args[1]));
        boolean requireEqual = args.length > 3 && args[3].equals("--require-equal");
        int examples = 0, sameKept = 0, sameResponse = 0, sameCritical = 0, missing = 0;
        long positions = 0, positionsAgree = 0, bothCritical = 0, eitherCritical = 0, sameAlternatives = 0, sameVerdicts = 0;
        double maxDp = 0;
        List<String> firstDifferences = new ArrayList<>();
        for (Map.Entry<String, MaskRecord> e : ref.entrySet()) {
            examples++;
            MaskRecord a = e.getValue(), b = other.get(e.getKey());
            if (b == null) {
                missing++;
                note(firstDifferences, e.getKey() + ": missing");
                continue;
            }
            if (a.kept() == b.kept()) sameKept++;
            else note(firstDifferences, e.getKey() + ": kept " + a.kept() + " vs " + b.kept());
            boolean response = Arrays.equals(a.responseIds(), b.responseIds());
            if (response) sameResponse++;
            else note(firstDifferences, e.getKey() + ": responses differ");
            if (a.critical().equals(b.critical())) sameCritical++;
            else note(firstDifferences, e.getKey() + ": critical " + a.critical() + " vs " + b.critical());
            if (!response) continue;
            Map<Integer, MaskRecord.Position> bp = new LinkedHashMap<>();
            for (MaskRecord.Position p : b.positions()) bp.put(p.t(), p);
            for (MaskRecord.Position p : a.positions()) {
                positions++;
                MaskRecord.Position q = bp.get(p.t());
                if (q == null) continue;
                if (p.critical() == q.critical()) positionsAgree++;
                if (p.critical() && q.critical()) bothCritical++;
                if (p.critical() || q.critical()) eitherCritical++;
                if (p.p() != null && q.p() != null) maxDp = Math.max(maxDp, Math.abs(p.p() - q.p()));
                boolean alts = p.alternatives().size() == q.alternatives().size(), verdicts = alts;
                for (int i = 0; alts && i < p.alternatives().size(); i++) {
                    MaskRecord.Alternative x = p.alternatives().get(i), y = q.alternatives().get(i);
                    if (x.token() != y.token()) {
                        alts = verdicts = false;
                        break;
                    }
                    maxDp = Math.max(maxDp, Math.abs(x.p() - y.p()));
                    for (int k = 0; k < x.continuations().size() && k < y.continuations().size(); k++) {
                        verdicts &= x.continuations().get(k).correct() == y.continuations().get(k).correct();
                    }
                }
                if (alts) sameAlternatives++;
                if (verdicts) sameVerdicts++;
            }
        }
        boolean equal = missing == 0 && other.size() == ref.size() && sameKept == examples && sameResponse == examples
                && sameCritical == examples && sameAlternatives == positions && sameVerdicts == positions;
        System.out.println(String.format(Locale.ROOT, "{\"bench\":\"mining_agreement\",\"status\":\"ok\",\"pair\":\"%s\","
                        + "\"examples\":%d,\"missing\":%d,\"same_kept\":%d,\"same_response\":%d,\"same_critical_set\":%d,"
                        + "\"positions\":%d,\"position_critical_agreement\":%.6f,\"critical_jaccard\":%.6f,"
                        + "\"same_alternatives\":%d,\"same_verdicts\":%d,\"max_abs_dp\":%.3g,\"equal\":%b}",
                args[2], examples, missing, sameKept, sameResponse, sameCritical, positions,
                positions == 0 ? 1.0 : (double) positionsAgree / positions,
                eitherCritical == 0 ? 1.0 : (double) bothCritical / eitherCritical, sameAlternatives, sameVerdicts, maxDp, equal));
        for (String d : firstDifferences) System.err.println("CompareMasks " + args[2] + ": " + d);
        if (requireEqual && !equal) System.exit(1);
    }

    private static void note(List<String> notes, String line) {
        if (notes.size() < 10) notes.add(line);
    }

    private static Map<String, MaskRecord> read(Path file) throws IOException {
        Map<String, MaskRecord> out = new LinkedHashMap<>();
        MaskRecordReader.forEach(file, (line, r) -> {
            out.put(r.id(), r);
            return true;
        });
        return out;
    }
}
