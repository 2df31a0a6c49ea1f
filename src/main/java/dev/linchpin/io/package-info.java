/** Small file helpers shared by every package: atomic writes. */
package dev.linchpin.io;
