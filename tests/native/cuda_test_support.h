// What every native CUDA test shares: CUDA status checks that abort the test, and loading the CUDA
// backend through the public ABI with ctest's skip convention (exit 77 where no GPU or driver exists).
#ifndef LP_CUDA_TEST_SUPPORT_H
#define LP_CUDA_TEST_SUPPORT_H

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

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

/* Loads the CUDA backend (lp_cuda_load). Returns -1 when it is usable; otherwise the exit code the
 * test must return: 77 (ctest SKIP_RETURN_CODE) when CUDA is unavailable here, 1 on any other failure. */
inline int lp_test_load_cuda_or_skip() {
    const int rc = lp_cuda_load(nullptr);
    if (rc == LP_ERR_UNAVAILABLE) {
        std::printf("SKIP: %s\n", lp_last_error());
        return 77;
    }
    if (rc != LP_OK) {
        std::printf("FAIL: lp_cuda_load returned %d: %s\n", rc, lp_last_error());
        return 1;
    }
    return -1;
}

#endif
