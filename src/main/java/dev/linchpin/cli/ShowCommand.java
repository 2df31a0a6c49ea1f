package dev.linchpin.cli;

import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MaskRecordReader;
import dev.linchpin.mine.MaskRenderer;
import dev.linchpin.mine.MasksFileException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code linchpin show masks.jsonl --id X}: one mined example with its critical tokens highlighted. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print one mined example: the response with critical tokens highlighted and, per critical token, "
                + "what its alternatives led to.")
public final class ShowCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MASKS", description = "A masks file written by linchpin mine.")
    Path file;
    @Option(names = "--id", required = true, description = "The example id.")
    String id;
    @Option(names = "--color", defaultValue = "auto", description = "auto (on a terminal), always or never (default: ${DEFAULT-VALUE}).")
    String color;

    @Override
    public Integer call() throws IOException {
        boolean ansi = switch (color) {
            case "auto" -> System.console() != null;
            case "always" -> true;
            case "never" -> false;
            default -> throw new IllegalArgumentException("--color must be auto, always or never, got '" + color + "'");
        };
        MaskRecord r = find(file, id);
        spec.commandLine().getOut().print(MaskRenderer.render(r, ansi));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /**
     * The record with {@code id}; a truncated last line (an interrupted run) is ignored.
     *
     * @throws MasksFileException naming the file (and line) if it is missing, a line is malformed, or no record has the id
     */
    static MaskRecord find(Path file, String id) {
        MaskRecord[] found = new MaskRecord[1];
        try {
            MaskRecordReader.forEach(file, (line, r) -> {
                if (r.id().equals(id)) found[0] = r;
                return found[0] == null;
            });
        } catch (IOException e) {
            throw new MasksFileException(file, 0, "cannot read: " + e, e);
        }
        if (found[0] == null) throw new MasksFileException(file, 0, "no record with id '" + id + "'", null);
        return found[0];
    }
}
