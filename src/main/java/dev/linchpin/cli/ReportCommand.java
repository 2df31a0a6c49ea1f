package dev.linchpin.cli;

import dev.linchpin.report.Report;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code linchpin report RUN_DIR}: (re)writes report.json and report.html from a demo run directory. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write RUN_DIR/report.json and a self-contained RUN_DIR/report.html from a demo run directory "
                + "(demo.json, masks.jsonl, train/*/metrics.jsonl, eval/*.json). An unfinished run is reported as far as it got.")
public final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "The run directory (runs/<name>/ of linchpin demo).")
    Path runDir;

    @Override
    public Integer call() throws IOException {
        Report.Written w = Report.write(runDir);
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + w.html());
        out.println("wrote " + w.json());
        if (!w.missing().isEmpty()) {
            out.println("missing from the run (" + w.missing().size() + "):");
            for (String m : w.missing()) out.println("  " + m);
        }
        out.flush();
        return 0;
    }
}
