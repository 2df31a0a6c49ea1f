package dev.linchpin.mine;

import dev.linchpin.engine.ItemFailures;
import dev.linchpin.data.DatasetException;
import dev.linchpin.data.Example;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds back the records of failed examples until an example after them is mined, so a job that
 * fails {@link ItemFailures#MAX_IN_A_ROW} examples in a row stops without recording them (the cause is
 * then not the examples, and a resumed job must retry them). Records keep data order: held failures
 * are released just before the next mined record, and at the end of the job.
 */
final class FailureRun {
    private final Path data;
    private final List<MaskRecord> pending = new ArrayList<>();
    private long firstPendingLine;

    FailureRun(Path data) {
        this.data = data;
    }

    /**
     * The records of a batch (in input order, with their examples) that may be appended now.
     *
     * @throws DatasetException naming the first of {@link ItemFailures#MAX_IN_A_ROW} failed examples in a row
     */
    List<MaskRecord> admit(List<MaskRecord> records, List<Example> examples) {
        List<MaskRecord> ready = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            MaskRecord r = records.get(i);
            if (!r.failed()) {
                ready.addAll(pending);
                pending.clear();
                ready.add(r);
                continue;
            }
            if (pending.isEmpty()) firstPendingLine = examples.get(i).line();
            pending.add(r);
            if (pending.size() >= ItemFailures.MAX_IN_A_ROW) {
                throw new DatasetException(data, firstPendingLine, pending.size() + " examples in a row could not be mined ("
                        + pending.get(0).id() + " .. " + r.id() + "), so the cause is probably not the examples; stopping"
                        + " without recording them. Last reason: " + r.error());
            }
        }
        return ready;
    }

    /** The failed records still held (the job ended after them). */
    List<MaskRecord> drain() {
        List<MaskRecord> out = new ArrayList<>(pending);
        pending.clear();
        return out;
    }
}
