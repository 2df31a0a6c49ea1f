package dev.linchpin.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MasksFileException;
import dev.linchpin.mine.MasksJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            long number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                try {
                    MaskRecord r = MasksJson.fromLine(line);
                    if (r.kept()) out.add(r);
                } catch (JsonProcessingException | IllegalArgumentException e) {
                    if (in.ready()) {
                        throw new MasksFileException(file, number, "not a mask record: "
                                + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
                    }
                }
            }
        } catch (NoSuchFileException e) {
            throw new MasksFileException(file, 0, "no such file", e);
        } catch (IOException e) {
            throw new MasksFileException(file, 0, "cannot read: " + e, e);
        }
        return out;
    }
}
