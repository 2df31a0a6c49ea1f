/**
 * Safetensors in Java: a strict, memory-mapped reader ({@link dev.linchpin.model.safetensors.SafetensorsFile},
 * {@link dev.linchpin.model.safetensors.SafetensorsCheckpoint} for sharded directories) and an atomic writer
 * ({@link dev.linchpin.model.safetensors.SafetensorsWriter}). Untrusted files never crash the JVM: every
 * defect is a {@link dev.linchpin.model.safetensors.SafetensorsException} naming the file and tensor.
 */
package dev.linchpin.model.safetensors;
