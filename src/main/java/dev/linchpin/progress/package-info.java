/**
 * How jobs report progress ({@link dev.linchpin.progress.ProgressListener}) without knowing about
 * terminals: the lowest layer, importing nothing of the project, so that every job can take a listener
 * and only the command line decides how progress looks.
 */
package dev.linchpin.progress;
