package dev.linchpin.cli;

import dev.linchpin.demo.DemoPlan;
import dev.linchpin.demo.DemoRun;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin demo}: the whole pipeline on the embedded default in one command (see {@link DemoRun}):
 * base model, mining, SFT / CFT / SFTKey / DFT / random-mask training with one budget, evaluation, report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline on the embedded default: train (or find) the base model, mine critical tokens "
                + "(k = 2, greedy), train SFT, CFT, SFTKey, DFT and random-mask from the same base with the same budget on the "
                + "same examples, evaluate all on the test and harder OOD splits, write the run directory.",
                "About 7-12 minutes on 2 cores (5 more when the base model is not cached yet); --quick: a small run, about 2 minutes (seconds once its base is cached).",
                "Run it again with the same options to resume an interrupted run; finished stages are skipped."})
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Small sizes: a tiny base model, few questions and steps (for tests and a first look).")
    boolean quick;
    @Option(names = "--out", defaultValue = "runs", paramLabel = "DIR", description = "Directory the run directory goes in (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--name", paramLabel = "NAME", description = "The run directory's name (default: demo, or quick with --quick).")
    String name;
    @Option(names = "--threads", defaultValue = "0", description = "Engine and libtorch threads; 0: all cores (default: ${DEFAULT-VALUE}).")
    int threads;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        Progress bars = progress.on(spec.commandLine().getErr());
        DemoPlan plan = quick ? DemoPlan.quickPlan() : DemoPlan.standardPlan();
        String runName = name != null ? name : quick ? "quick" : "demo";
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        new DemoRun(plan, runName, out, n, spec.commandLine().getOut(), bars).run();
        return 0;
    }
}
