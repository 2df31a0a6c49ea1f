// What every native CUDA test shares: CUDA status checks that abort the test, and loading the CUDA
// backend through the public ABI with ctest's skip convention (exit 77 where there is no CUDA here).
#ifndef LP_CUDA_TEST_SUPPORT_H
#define LP_CUDA_TEST_SUPPORT_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "linchpin.h"

#define CK(expr)                                                                                  \
    do {                                                                                          \
        cudaError_t ck_err_ = (expr);                                                             \
        if (ck_err_ != cudaSuccess) {                                                             \
            std::fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #expr,        \
                         cudaGetErrorString(ck_err_), cudaGetErrorName(ck_err_));                 \
            std::exit(2);                                                                         \
        }                                                                                         \
    } while (0)

/* LINCHPIN_REQUIRE_CUDA=1 (the GPU kit sets it where nvidia-smi sees a GPU): CUDA must work here, so a
 * test that would skip fails instead. */
inline bool lp_test_cuda_required() {
    const char *v = std::getenv("LINCHPIN_REQUIRE_CUDA");
    return v != nullptr && std::strcmp(v, "1") == 0;
}

/* Loads the CUDA backend (lp_cuda_load). Returns -1 when it is usable; otherwise the exit code the
 * test must return: 77 (ctest SKIP_RETURN_CODE) when there is no CUDA here (LP_ERR_UNAVAILABLE) and
 * CUDA is not required; 1 when a GPU is there but the backend failed (LP_ERR_BACKEND_BROKEN), when
 * CUDA is required, or on any other failure. */
inline int lp_test_load_cuda_or_skip() {
    const int rc = lp_cuda_load(nullptr);
    if (rc == LP_OK) return -1;
    if (rc == LP_ERR_UNAVAILABLE && !lp_test_cuda_required()) {
        std::printf("SKIP: no CUDA here: %s\n", lp_last_error());
        return 77;
    }
    if (rc == LP_ERR_UNAVAILABLE) {
        std::printf("FAIL: LINCHPIN_REQUIRE_CUDA=1 but CUDA is unavailable: %s\n", lp_last_error());
    } else if (rc == LP_ERR_BACKEND_BROKEN) {
        std::printf("FAIL: a GPU is there but the CUDA backend failed: %s\n", lp_last_error());
    } else {
        std::printf("FAIL: lp_cuda_load returned %d: %s\n", rc, lp_last_error());
    }
    return 1;
}

#endif
