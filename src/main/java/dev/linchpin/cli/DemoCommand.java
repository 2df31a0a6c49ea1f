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
 * base model, target data the base never saw, mining, the entropy selection, the learning-rate choice, SFT / CFT /
 * SFTKey / DFT / random / entropy training with one budget and several seeds, evaluation, report with intervals.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole experiment on the embedded default: train (or find) the base model, generate harder target "
                + "questions it never saw, mine critical tokens (k = 2, greedy), select the base's highest-entropy tokens at CFT's density, "
                + "choose the learning rate for SFT on a validation split, train SFT, CFT, SFTKey, DFT, random and entropy with 3 seeds each "
                + "from the same base with the same budget on the same examples, evaluate all on the test and OOD splits, and report "
                + "means, standard deviations and paired bootstrap intervals.",
                "About 20 minutes on 2 quiet cores (estimated) including the base's first training; --quick: a small run of every stage.",
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
    @Option(names = "--seeds", paramLabel = "N", description = "Training seeds per objective, 0 .. N-1 (default: 3, 2 with --quick).")
    Integer seeds;
    @Option(names = "--threads", defaultValue = "0", description = "Engine and libtorch threads; 0: all cores. From 2 on, the "
            + "independent trainings and evaluations run two at a time with half the threads each (default: ${DEFAULT-VALUE}).")
    int threads;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        Progress bars = progress.on(spec.commandLine().getErr());
        DemoPlan plan = quick ? DemoPlan.quickPlan() : DemoPlan.standardPlan();
        if (seeds != null) {
            if (seeds < 1) throw new IllegalArgumentException("--seeds must be >= 1, got " + seeds);
            plan = plan.withSeeds(seeds);
        }
        String runName = name != null ? name : quick ? "quick" : "demo";
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        new DemoRun(plan, runName, out, n, spec.commandLine().getOut(), bars).run();
        return 0;
    }
}
