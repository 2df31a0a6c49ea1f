package dev.linchpin.report;

import dev.linchpin.io.AtomicFiles;
import dev.linchpin.rundir.RunLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a demo run's report: {@code report.json} (every number the page shows, machine-readable) and
 * {@code report.html} (one self-contained page: results tables, stage wall times, SVG plots, example
 * solutions with critical tokens and their alternatives on hover). Both are written atomically.
 *
 * <p>An unfinished run is reported as far as it got; what is absent is listed in both files.
 */
public final class Report {
    private Report() {}

    /**
     * What {@link #write} produced.
     *
     * @param json    the report.json written
     * @param html    the report.html written
     * @param missing the run's absent pieces, one line each (empty for a complete run)
     * @param plots   the ids of the plot SVGs in the page
     */
    public record Written(Path json, Path html, List<String> missing, List<String> plots) {}

    /**
     * Reads the run directory {@code runDir} (see {@link RunLayout}) and writes its report files there.
     *
     * @throws ReportInputException naming the file (and line) when a present input is malformed
     * @throws IOException          when the directory does not exist or cannot be read or written
     */
    public static Written write(Path runDir) throws IOException {
        System.setProperty("java.awt.headless", "true");   // before any AWT class loads: no display on servers
        RunLayout layout = new RunLayout(runDir);
        ReportModel model = ReportModel.of(RunData.load(layout));
        List<String> findings = Findings.of(model);
        String html = HtmlPage.render(model, findings);
        AtomicFiles.writeString(layout.reportJson(), ReportJson.text(ReportJson.of(model, findings)));
        AtomicFiles.writeString(layout.reportHtml(), html);
        return new Written(layout.reportJson(), layout.reportHtml(), model.data().missing(), model.plotIds());
    }
}
