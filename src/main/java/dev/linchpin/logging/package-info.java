/**
 * Library log output for the command line: warnings and errors only, one line each, without the known,
 * deliberate JavaCPP/OpenBLAS version notice ({@link dev.linchpin.logging.QuietLogging}).
 */
package dev.linchpin.logging;
