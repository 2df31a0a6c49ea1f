package dev.linchpin.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Option defaults from a YAML run config ({@code --config run.yaml}): a flat mapping whose keys are the
 * subcommand's long option names without dashes ({@code k: 3}, {@code max-new-tokens: 128},
 * {@code model: models/x}). Values go through picocli's own converters and checks, exactly as if typed;
 * an option given on the command line overrides the file. Unknown keys are errors (a typo must not be
 * silently ignored). Parsed with SnakeYAML's {@link SafeConstructor}: no arbitrary types.
 */
public final class YamlDefaults implements IDefaultValueProvider {
    /** The option that names the file. */
    public static final String OPTION = "--config";

    private final Path file;
    private final Map<String, String> values;

    YamlDefaults(Path file, Map<String, String> values) {
        this.file = file;
        this.values = values;
    }

    /** The defaults named by {@code --config FILE} / {@code --config=FILE} in {@code args}, or null. */
    static YamlDefaults fromArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(OPTION)) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(OPTION + " needs a file");
                return load(Path.of(args[i + 1]));
            }
            if (args[i].startsWith(OPTION + "=")) return load(Path.of(args[i].substring(OPTION.length() + 1)));
            if (args[i].equals("--")) break;
        }
        return null;
    }

    /**
     * Reads {@code file}.
     *
     * @throws IllegalArgumentException naming the file (and line) if it is missing, not YAML, not a
     *                                  flat mapping, or has a non-scalar value
     */
    public static YamlDefaults load(Path file) {
        Object root;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
            throw new IllegalArgumentException(file + (line > 0 ? ":" + line : "") + ": not valid YAML: " + e.getProblem(), e);
        } catch (YAMLException | IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the config: " + e.getMessage(), e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (root == null) return new YamlDefaults(file, values);
        if (!(root instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(file + ": a run config must be a mapping of option names to values");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object v = e.getValue();
            if (v instanceof Map || v instanceof List) {
                throw new IllegalArgumentException(file + ": '" + key + "' must be a single value, not a "
                        + (v instanceof Map ? "mapping" : "list"));
            }
            if (v != null) values.put(key, String.valueOf(v));
        }
        return new YamlDefaults(file, values);
    }

    /** The file. */
    public Path file() {
        return file;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || o.longestName().equals(OPTION)) return null;
        return values.get(o.longestName().replaceFirst("^-+", ""));
    }

    /**
     * Checks that every key is an option of {@code command}.
     *
     * @throws IllegalArgumentException naming the file and the unknown key
     */
    public void checkKeys(CommandSpec command) {
        for (String key : values.keySet()) {
            OptionSpec o = command.findOption("--" + key);
            if (o == null || o.longestName().equals(OPTION) || o.usageHelp() || o.versionHelp()) {
                TreeSet<String> known = new TreeSet<>();
                for (OptionSpec s : command.options()) {
                    if (!s.usageHelp() && !s.versionHelp() && !s.longestName().equals(OPTION)) known.add(s.longestName().replaceFirst("^-+", ""));
                }
                throw new IllegalArgumentException(file + ": unknown key '" + key + "' for linchpin " + command.name()
                        + " (known: " + String.join(", ", known) + ")");
            }
        }
    }
}
