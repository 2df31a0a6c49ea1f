/**
 * A demo run directory: where its files are ({@link dev.linchpin.rundir.RunLayout}) and its manifest
 * ({@link dev.linchpin.rundir.RunManifest}, {@code demo.json}). The contract between
 * {@code dev.linchpin.demo}, which writes a run, and {@code dev.linchpin.report}, which reads it; kept
 * apart from both so that neither depends on the other for it.
 */
package dev.linchpin.rundir;
