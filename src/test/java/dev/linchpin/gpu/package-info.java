/**
 * GPU tests that need no libtorch: they reach the CUDA kernels through the C ABI
 * ({@link dev.linchpin.nativ.LinchpinNative}) with {@link dev.linchpin.nativ.DeviceBuffer} for device
 * memory, and compare with the CPU twins on host memory. Nothing in this package may import
 * {@code org.bytedeco.pytorch}: {@code bench/gpu/pack.sh} carries these classes to GPU hosts without
 * libtorch (it drops, by jdeps, every test class that reaches libtorch).
 */
package dev.linchpin.gpu;
