/** Command-line utilities: {@link dev.linchpin.cli.Progress} (progress bar with rate and ETA, or log lines). */
package dev.linchpin.cli;
