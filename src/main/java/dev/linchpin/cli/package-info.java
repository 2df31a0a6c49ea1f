/**
 * The {@code linchpin} command line ({@link dev.linchpin.cli.Main}, picocli): {@code mine}, {@code show};
 * {@code train}, {@code eval} and {@code demo} join as subcommands of {@link dev.linchpin.cli.Main}.
 * Run configs are flat YAML mappings of option names ({@link dev.linchpin.cli.YamlDefaults}).
 * {@link dev.linchpin.cli.Progress} draws progress bars with rate and ETA (log lines when not a terminal).
 */
package dev.linchpin.cli;
