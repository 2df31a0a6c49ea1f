/*
 * Entry points of liblinchpin_cuda.so that are not kernels: ABI version, last error, device probing.
 * The dispatcher (cpp/src/core) dlopen()s this library and dlsym()s the lpcuda_* symbols; see
 * cpp/include/linchpin_cuda_backend.h.
 */
#include "common.cuh"

namespace {

/* Smallest compute capability this build can run on (tensor-core bf16 and TF32 MMA need sm_80; the
 * library is compiled for sm_80 / sm_90 SASS plus compute_90 PTX). */
constexpr int kMinMajor = 8;

}  // namespace

extern "C" {

LPCUDA_EXPORT int lpcuda_abi_version(void) { return LPCUDA_ABI_VERSION; }

LPCUDA_EXPORT const char *lpcuda_last_error(void) { return lpcuda::error_slot().c_str(); }

LPCUDA_EXPORT int lpcuda_init(void) {
    lpcuda::clear_error();
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); /* the probe must not leave an error behind */
        if (err == cudaErrorNoDevice) {
            return lpcuda::fail(LP_ERR_UNAVAILABLE, "no CUDA device: cudaGetDeviceCount: %s (%s)",
                                cudaGetErrorString(err), cudaGetErrorName(err));
        }
        if (err == cudaErrorInsufficientDriver) {
            return lpcuda::fail(LP_ERR_UNAVAILABLE,
                                "no CUDA driver (missing, or older than the CUDA %d.%d runtime this "
                                "library was built with): cudaGetDeviceCount: %s (%s)",
                                CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10,
                                cudaGetErrorString(err), cudaGetErrorName(err));
        }
        return lpcuda::fail(LP_ERR_UNAVAILABLE, "no usable CUDA driver: cudaGetDeviceCount: %s (%s)",
                            cudaGetErrorString(err), cudaGetErrorName(err));
    }
    if (n <= 0) return lpcuda::fail(LP_ERR_UNAVAILABLE, "no CUDA device (cudaGetDeviceCount returned 0)");

    int best_major = -1, best_minor = -1;
    for (int d = 0; d < n; ++d) {
        int major = 0, minor = 0;
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d) != cudaSuccess ||
            cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        if (major > best_major || (major == best_major && minor > best_minor)) {
            best_major = major;
            best_minor = minor;
        }
    }
    if (best_major < kMinMajor) {
        return lpcuda::fail(LP_ERR_UNAVAILABLE,
                            "no usable CUDA device: %d device(s) found, the best has compute capability "
                            "%d.%d but this build needs >= %d.0",
                            n, best_major, best_minor, kMinMajor);
    }
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

}  // extern "C"
