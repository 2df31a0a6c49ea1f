/*
 * GEMMs of the engine's CUDA backend: y[R, N] (fp32) = x[R, K] · W[N, K]ᵀ with x and W both fp32 or
 * both bf16 and fp32 accumulation. Through cuBLAS (cublasGemmEx) when it can be loaded at run time,
 * else an own shared-memory tiled kernel that needs nothing but the CUDA runtime (slow but exact in
 * fp32; it is also the reference the GPU test holds cuBLAS to).
 */
#ifndef LINCHPIN_KERNELS_ENGINE_GEMM_CUH
#define LINCHPIN_KERNELS_ENGINE_GEMM_CUH

#include <string>

#include "common.cuh"
#include "cublas_dyn.h"

namespace lpcuda {

/*
 * The process-wide cuBLAS library: dlopen'ed once. Tried in order: $LINCHPIN_CUBLAS_LIB (a path or
 * soname), else libcublas.so.13 then libcublas.so.12. Returns nullptr when none loads or one lacks a
 * symbol; *why gets the failures, or the loaded name. LINCHPIN_CUBLAS_LIB=off (or none) makes every
 * engine created while it is set use the own kernel (Gemm::init).
 */
const cublas::Api *load_cublas(std::string *why);

/* One engine's GEMM path: its cuBLAS handle on its stream, or the own kernel. */
class Gemm {
public:
    Gemm() = default;
    ~Gemm();
    Gemm(const Gemm &) = delete;
    Gemm &operator=(const Gemm &) = delete;

    /* Picks cuBLAS if it loads (creating a handle bound to `stream`), else the own kernel. Decided at
     * engine creation: LINCHPIN_CUBLAS_LIB is read then. */
    int init(cudaStream_t stream);
    bool uses_cublas() const { return handle_ != nullptr; }
    /* Destroys the cuBLAS handle (idempotent). The owner calls it before destroying the stream the
     * handle is bound to; the destructor calls it too. */
    void release();
    /* Which path, for diagnostics: "cuBLAS (libcublas.so.12)" or "own tiled GEMM (<why not cuBLAS>)". */
    std::string describe() const {
        return handle_ != nullptr ? "cuBLAS (" + library_ + ")" : "own tiled GEMM (" + why_ + ")";
    }

    /* y = x · Wᵀ; dtype LP_F32 (x, W float) or LP_BF16 (x, W __nv_bfloat16). Enqueued on the stream. */
    int run(const void *x, const void *W, int dtype, float *y, int64_t R, int64_t N, int64_t K);

private:
    cudaStream_t stream_ = nullptr;
    const cublas::Api *api_ = nullptr;
    cublas::cublasHandle_t handle_ = nullptr;
    std::string why_, library_;
};

}  // namespace lpcuda

#endif
