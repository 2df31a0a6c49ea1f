/*
 * Entry points of liblinchpin_cuda.so that are not kernels: ABI version, last error, device probing,
 * device memory (malloc/free/memcpy/memset/synchronize) and device facts (name, free memory).
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
        /* A driver answered but failed (mismatched kernel module, devices busy or not permitted, ...):
         * a GPU is very likely there, so this is not "no CUDA here". */
        return lpcuda::fail(LP_ERR_BACKEND_BROKEN, "the CUDA driver is there but failed: cudaGetDeviceCount: %s (%s)",
                            cudaGetErrorString(err), cudaGetErrorName(err));
    }
    if (n <= 0) return lpcuda::fail(LP_ERR_UNAVAILABLE, "no CUDA device (cudaGetDeviceCount returned 0)");

    int best = -1, best_major = -1, best_minor = -1, best_sms = -1;
    for (int d = 0; d < n; ++d) {
        int major = 0, minor = 0, sms = 0;
        cudaError_t e1 = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d);
        cudaError_t e2 = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, d);
        cudaError_t e3 = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d);
        if (e1 != cudaSuccess || e2 != cudaSuccess || e3 != cudaSuccess) {
            (void)cudaGetLastError();
            return lpcuda::fail(LP_ERR_BACKEND_BROKEN, "cudaDeviceGetAttribute failed on device %d of %d: %s", d, n,
                                cudaGetErrorName(e1 != cudaSuccess ? e1 : e2 != cudaSuccess ? e2 : e3));
        }
        /* the highest compute capability, then the most SMs; ties to the lowest index */
        if (major > best_major || (major == best_major && (minor > best_minor || (minor == best_minor && sms > best_sms)))) {
            best = d;
            best_major = major;
            best_minor = minor;
            best_sms = sms;
        }
    }
    if (best_major < kMinMajor) {
        return lpcuda::fail(LP_ERR_UNAVAILABLE,
                            "no usable CUDA device: %d device(s) found, the best has compute capability "
                            "%d.%d but this build needs >= %d.0",
                            n, best_major, best_minor, kMinMajor);
    }
    /* Validated is not enough: make it the device every entry point uses (use_selected_device). */
    lpcuda::selected_device() = best;
    err = cudaSetDevice(best);
    if (err == cudaSuccess) err = cudaFree(nullptr); /* creates the context now: a broken device fails here */
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return lpcuda::fail(LP_ERR_BACKEND_BROKEN, "device %d (compute capability %d.%d) cannot be used: %s (%s)", best,
                            best_major, best_minor, cudaGetErrorString(err), cudaGetErrorName(err));
    }
    return LP_OK;
}

/* Makes the selected device current on the calling thread (the dispatcher calls it before each call). */
LPCUDA_EXPORT int lpcuda_use_device(void) {
    lpcuda::clear_error();
    return lpcuda::use_selected_device();
}

LPCUDA_EXPORT int lpcuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return n;
}

/* Device memory. cudaMalloc running out is LP_ERR_OUT_OF_MEMORY (Java turns it into its own
 * exception); every other CUDA failure is LP_ERR_CUDA with the error's name. */
LPCUDA_EXPORT int lpcuda_malloc(size_t bytes, void **out) {
    lpcuda::clear_error();
    *out = nullptr;
    cudaError_t err = cudaMalloc(out, bytes);
    if (err == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError(); /* an allocation failure is not sticky: clear it */
        *out = nullptr;
        size_t free_b = 0, total_b = 0;
        if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) (void)cudaGetLastError();
        return lpcuda::fail(LP_ERR_OUT_OF_MEMORY, "cudaMalloc of %zu bytes: out of device memory (%zu of %zu bytes free)",
                            bytes, free_b, total_b);
    }
    if (err != cudaSuccess) *out = nullptr;
    LPCUDA_CHECK(err, "cudaMalloc");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_free(void *ptr) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaFree(ptr), "cudaFree");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_memcpy_h2d(void *dst_device, const void *src_host, size_t bytes) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaMemcpy(dst_device, src_host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy host to device");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_memcpy_d2h(void *dst_host, const void *src_device, size_t bytes) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaMemcpy(dst_host, src_device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy device to host");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_memset(void *ptr, int byte_value, size_t bytes) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaMemset(ptr, byte_value, bytes), "cudaMemset");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_synchronize(void) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_device_name(char *buf, size_t len) {
    lpcuda::clear_error();
    const int device = lpcuda::selected_device();
    cudaDeviceProp prop;
    LPCUDA_CHECK(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    std::snprintf(buf, len, "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_mem_get_info(size_t *free_bytes, size_t *total_bytes) {
    lpcuda::clear_error();
    LPCUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
    return LP_OK;
}

}  // extern "C"
