package dev.linchpin.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --config run.yaml}, shared by the commands whose options can come from a file (a picocli mixin).
 * {@link Main} reads the file before parsing ({@link YamlDefaults} supplies the defaults); the command
 * then checks that every key names one of its options.
 */
public final class ConfigOption {
    @Option(names = YamlDefaults.OPTION, paramLabel = "YAML", description = "Run config: option defaults (keys = option names without dashes).")
    Path config;

    /** Fails naming the file and key when the config has a key that is not an option of {@code command}. */
    void checkKeys(CommandSpec command) {
        if (config != null) YamlDefaults.load(config).checkKeys(command);
    }
}
