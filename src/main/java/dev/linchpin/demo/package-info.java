/**
 * {@code linchpin demo}: the whole pipeline (base model, critical-token mining, five objectives trained
 * with one budget, evaluation, report) on the embedded default, resumable, into one run directory
 * ({@link dev.linchpin.rundir.RunLayout}). {@link dev.linchpin.demo.DemoPlan} holds the sizes,
 * {@link dev.linchpin.demo.DemoRun} the stages.
 */
package dev.linchpin.demo;
