package dev.linchpin.train;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MaskRecordReader;
import dev.linchpin.mine.MasksFileException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads the kept records of a masks file written by {@code linchpin mine} (CFT and the random ablation). */
public final class MaskRecords {
    private MaskRecords() {}

    /**
     * The kept records in file order. A truncated last line (an interrupted mining run) is ignored.
     *
     * @throws MasksFileException naming the file and line of a malformed record, or the file if it is missing
     */
    public static List<MaskRecord> readKept(Path file) {
        List<MaskRecord> out = new ArrayList<>();
        try {
            MaskRecordReader.forEach(file, (line, r) -> {
                if (r.kept()) out.add(r);
                return true;
            });
        } catch (IOException e) {
            throw new MasksFileException(file, 0, "cannot read: " + e, e);
        }
        return out;
    }
}
