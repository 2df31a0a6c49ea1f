/**
 * The report of a demo run directory ({@link dev.linchpin.rundir.RunLayout}): {@code report.json} with
 * every number on the page and a self-contained {@code report.html} (inline CSS and SVG plots, no network).
 */
package dev.linchpin.report;

import dev.linchpin.rundir.RunLayout;
