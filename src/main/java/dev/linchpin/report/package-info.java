/**
 * The demo run's files ({@link dev.linchpin.report.RunLayout}, {@link dev.linchpin.report.RunManifest})
 * and the report built from them ({@code report.json} + a self-contained {@code report.html}).
 */
package dev.linchpin.report;
