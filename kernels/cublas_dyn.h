/*
 * The few cuBLAS declarations the engine's CUDA backend uses, written here because the build machines
 * have no cuBLAS headers or libraries (ARCHITECTURE.md, "Build and platform facts"): cuBLAS is loaded
 * at run time with dlopen (engine_gemm.cu). Signatures and enum values are the documented ones
 * (cuBLAS API reference: cublasCreate_v2, cublasSetStream_v2, cublasGemmEx, cublasDestroy_v2;
 * cublasOperation_t, cublasComputeType_t, cublasGemmAlgo_t, cublasStatus_t), stable across cuBLAS 12
 * and 13. cudaDataType_t comes from the CUDA runtime's own library_types.h.
 */
#ifndef LINCHPIN_KERNELS_CUBLAS_DYN_H
#define LINCHPIN_KERNELS_CUBLAS_DYN_H

#include <library_types.h>
#include <cuda_runtime.h>

namespace lpcuda::cublas {

typedef struct cublasContext *cublasHandle_t;   /* opaque */
typedef int cublasStatus_t;                     /* enum; C enums are int-sized on the x86-64/aarch64 ABIs */
typedef int cublasOperation_t;
typedef int cublasComputeType_t;
typedef int cublasGemmAlgo_t;

constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr cublasOperation_t CUBLAS_OP_N = 0;
constexpr cublasOperation_t CUBLAS_OP_T = 1;
constexpr cublasComputeType_t CUBLAS_COMPUTE_32F = 68;   /* fp32 accumulation; no TF32 in the default math mode */
constexpr cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT = -1;

typedef cublasStatus_t (*cublasCreate_v2_fn)(cublasHandle_t *handle);
typedef cublasStatus_t (*cublasDestroy_v2_fn)(cublasHandle_t handle);
typedef cublasStatus_t (*cublasSetStream_v2_fn)(cublasHandle_t handle, cudaStream_t stream);
typedef cublasStatus_t (*cublasGemmEx_fn)(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void *alpha, const void *A, cudaDataType_t Atype,
                                          int lda, const void *B, cudaDataType_t Btype, int ldb, const void *beta,
                                          void *C, cudaDataType_t Ctype, int ldc, cublasComputeType_t computeType,
                                          cublasGemmAlgo_t algo);

/* The functions resolved from the loaded library. */
struct Api {
    cublasCreate_v2_fn create = nullptr;
    cublasDestroy_v2_fn destroy = nullptr;
    cublasSetStream_v2_fn set_stream = nullptr;
    cublasGemmEx_fn gemm_ex = nullptr;
};

}  // namespace lpcuda::cublas

#endif
