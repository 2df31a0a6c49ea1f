package dev.linchpin.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.linchpin.defaults.DefaultConfig;
import dev.linchpin.defaults.EmbeddedDefault;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code linchpin default}: trains (or finds in the cache) the embedded default model and prints where it
 * is and how it scored. The first line is {@code trained DIR} or {@code cached DIR}, for scripts.
 */
@Command(name = "default", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the embedded default model, or find it in the cache, and print its directory and metrics "
                + "(first line: 'trained DIR' or 'cached DIR').",
                "CONFIG is standard (the shipped default) or tiny (seconds, for tests); KEY=VALUE words override fields of the "
                + "config, named as in training.json's \"config\" (e.g. train.steps=800 model.hidden=192), for calibration runs: "
                + "they change the cache key."})
public final class DefaultCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "CONFIG|KEY=VALUE", arity = "0..*", description = "standard (default) or tiny, then KEY=VALUE overrides.")
    List<String> words;
    @Option(names = "--cache", paramLabel = "DIR", description = "Cache root; models go under DIR/default/<hash>/ (default: $LINCHPIN_CACHE, "
            + "else the linchpin.cache property, else ~/.cache/linchpin).")
    Path cache;
    @Mixin
    ProgressOption progress;

    @Override
    public Integer call() throws Exception {
        DefaultConfig config = DefaultConfig.standard();
        Map<String, String> overrides = new TreeMap<>();
        List<String> given = words == null ? List.of() : words;
        for (int i = 0; i < given.size(); i++) {
            String w = given.get(i);
            if (i == 0 && w.equals("standard")) config = DefaultConfig.standard();
            else if (i == 0 && w.equals("tiny")) config = DefaultConfig.tiny();
            else if (w.indexOf('=') > 0) overrides.put(w.substring(0, w.indexOf('=')), w.substring(w.indexOf('=') + 1));
            else throw new ParameterException(spec.commandLine(), "expected standard, tiny or KEY=VALUE, got '" + w + "'");
        }
        config = config.with(overrides);
        Path root = cache != null ? cache.resolve("default") : EmbeddedDefault.cacheRoot();
        EmbeddedDefault.Result r = EmbeddedDefault.ensureDetailed(config, progress.on(spec.commandLine().getErr()), root);
        JsonNode t = r.training();
        PrintWriter out = spec.commandLine().getOut();
        out.println((r.trained() ? "trained " : "cached ") + r.directory());
        out.printf(Locale.ROOT, "test accuracy %.1f%% (%d/%d), OOD accuracy %.1f%% (%d/%d), final loss %.4f, train %.0fs, total %.0fs%n",
                100 * t.path("test_accuracy").asDouble(), t.path("test_correct").asInt(), t.path("test_total").asInt(),
                100 * t.path("ood_accuracy").asDouble(), t.path("ood_correct").asInt(), t.path("ood_total").asInt(),
                t.path("final_loss").asDouble(), t.path("train_seconds").asDouble(), t.path("wall_seconds").asDouble());
        out.flush();
        return 0;
    }
}
