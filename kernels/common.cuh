/*
 * Shared helpers of the Linchpin CUDA backend (liblinchpin_cuda.so).
 *
 *  - LPCUDA_EXPORT: the library is built with -fvisibility=hidden; the lpcuda_* entry points that the
 *    dispatcher dlsym()s are marked with this macro.
 *  - Error reporting: a thread-local message slot (returned by lpcuda_last_error()) and helpers that
 *    turn a cudaError_t into an lp_status with a message naming what failed.
 *  - dtype helpers: device-side conversion of float / bf16 / fp16 (values or raw 16-bit patterns) to
 *    float, and the lp_dtype -> C++ type mapping.
 */
#ifndef LINCHPIN_KERNELS_COMMON_CUH
#define LINCHPIN_KERNELS_COMMON_CUH

#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include "linchpin_cuda_backend.h"

#define LPCUDA_EXPORT __attribute__((visibility("default")))

namespace lpcuda {

/* ------------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------------ */

/* The thread-local message returned by lpcuda_last_error(). An inline function's static is a single
 * object for the whole shared library, whichever translation unit uses it. */
inline std::string &error_slot() {
    static thread_local std::string message;
    return message;
}

inline void clear_error() { error_slot().clear(); }

/* Stores a printf-style message and returns `status` (so callers can `return fail(...)`). */
__attribute__((format(printf, 2, 3))) inline int fail(int status, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    error_slot() = buf;
    return status;
}

inline int fail_cuda(cudaError_t err, const char *what, const char *file, int line) {
    return fail(LP_ERR_CUDA, "%s failed: %s (%s) [%s:%d]", what, cudaGetErrorString(err),
                cudaGetErrorName(err), file, line);
}

}  // namespace lpcuda

/* Evaluate a CUDA runtime call; on failure return LP_ERR_CUDA with a message naming `what`. */
#define LPCUDA_CHECK(expr, what)                                                                   \
    do {                                                                                           \
        cudaError_t lpcuda_err_ = (expr);                                                          \
        if (lpcuda_err_ != cudaSuccess) return ::lpcuda::fail_cuda(lpcuda_err_, what, __FILE__, __LINE__); \
    } while (0)

/* Check the launch that was just enqueued (configuration errors, missing kernel image, ...). */
#define LPCUDA_CHECK_LAUNCH(kernel_name) LPCUDA_CHECK(cudaGetLastError(), "launch of kernel " kernel_name)

namespace lpcuda {

/* The device lpcuda_init validated (the most capable one). The runtime's current device belongs to
 * each host thread, and the JVM calls from several threads, so every entry point makes it current
 * (use_selected_device): the dispatcher through lpcuda_use_device, the engine's entry points directly. */
inline int &selected_device() {
    static int device = 0;
    return device;
}

inline int use_selected_device() {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current == selected_device()) return LP_OK;
    (void)cudaGetLastError();
    LPCUDA_CHECK(cudaSetDevice(selected_device()), "cudaSetDevice (the device lpcuda_init selected)");
    return LP_OK;
}

}  // namespace lpcuda

namespace lpcuda {

/* ------------------------------------------------------------------------------------------------
 * dtype helpers
 * ------------------------------------------------------------------------------------------------ */

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

/* Load one element of any supported dtype as float. */
template <typename T>
__device__ __forceinline__ float load_float(const T *p) {
    return to_float(*p);
}

/* Raw 16-bit pattern -> float (exact for both 16-bit types). */
template <typename T>
__device__ __forceinline__ float bits_to_float(uint16_t bits);
template <>
__device__ __forceinline__ float bits_to_float<__nv_bfloat16>(uint16_t bits) {
    return __uint_as_float(static_cast<unsigned int>(bits) << 16);
}
template <>
__device__ __forceinline__ float bits_to_float<__half>(uint16_t bits) {
    return __half2float(__ushort_as_half(bits));
}

template <int DT>
struct dtype_of;
template <>
struct dtype_of<LP_F32> { using type = float; };
template <>
struct dtype_of<LP_BF16> { using type = __nv_bfloat16; };
template <>
struct dtype_of<LP_F16> { using type = __half; };

inline size_t dtype_size(int dtype) {
    switch (dtype) {
        case LP_F32: return 4;
        case LP_BF16: return 2;
        case LP_F16: return 2;
        default: return 0;
    }
}

inline const char *dtype_name(int dtype) {
    switch (dtype) {
        case LP_F32: return "f32";
        case LP_BF16: return "bf16";
        case LP_F16: return "f16";
        default: return "?";
    }
}

}  // namespace lpcuda

#endif /* LINCHPIN_KERNELS_COMMON_CUH */
