/* GEMMs of the engine's CUDA backend (see engine_gemm.cuh): run-time cuBLAS or an own tiled kernel. */
#include "engine_gemm.cuh"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace lpcuda {
namespace {

constexpr int kTile = 16;

/* y[r, n] = Σ_k x[r, k] · W[n, k]: 16×16 output tile per block, K walked in 16-wide slices held in
 * shared memory (widened to fp32), fp32 accumulation in k order. */
template <typename T>
__global__ void gemm_nt_tiled_kernel(const T *__restrict__ x, const T *__restrict__ W, float *__restrict__ y, int R,
                                     int N, int K) {
    __shared__ float xs[kTile][kTile + 1];
    __shared__ float ws[kTile][kTile + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int r = blockIdx.y * kTile + ty, n = blockIdx.x * kTile + tx;
    const int wn = blockIdx.x * kTile + ty;   /* the W row this thread loads */
    float acc = 0.0f;
    for (int k0 = 0; k0 < K; k0 += kTile) {
        const int k = k0 + tx;
        xs[ty][tx] = (r < R && k < K) ? to_float(x[static_cast<size_t>(r) * K + k]) : 0.0f;
        ws[ty][tx] = (wn < N && k < K) ? to_float(W[static_cast<size_t>(wn) * K + k]) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTile; ++kk) acc = fmaf(xs[ty][kk], ws[tx][kk], acc);
        __syncthreads();
    }
    if (r < R && n < N) y[static_cast<size_t>(r) * N + n] = acc;
}

std::mutex g_cublas_mutex;
bool g_cublas_tried = false;
cublas::Api g_cublas;
bool g_cublas_ok = false;
std::string g_cublas_why;
std::string g_cublas_name;

template <typename Fn>
bool sym(void *lib, const char *name, Fn *out) {
    *out = reinterpret_cast<Fn>(dlsym(lib, name));
    return *out != nullptr;
}

}  // namespace

/* "off" / "none" in LINCHPIN_CUBLAS_LIB: the own kernel. Read at every engine creation (a test can
 * build a cuBLAS engine and an own-kernel engine in one process); the library itself loads once. */
static bool cublas_disabled(std::string *why) {
    const char *env = std::getenv("LINCHPIN_CUBLAS_LIB");
    if (env != nullptr && (std::strcmp(env, "off") == 0 || std::strcmp(env, "none") == 0)) {
        *why = "cuBLAS disabled by LINCHPIN_CUBLAS_LIB=" + std::string(env);
        return true;
    }
    return false;
}

const cublas::Api *load_cublas(std::string *why) {
    std::lock_guard<std::mutex> lock(g_cublas_mutex);
    if (!g_cublas_tried) {
        g_cublas_tried = true;
        const char *env = std::getenv("LINCHPIN_CUBLAS_LIB");
        std::vector<std::string> candidates;
        if (env != nullptr && env[0] != '\0') {
            candidates.push_back(env);
        } else {
            candidates.push_back("libcublas.so.13");
            candidates.push_back("libcublas.so.12");
        }
        for (size_t i = 0; i < candidates.size() && !g_cublas_ok; ++i) {
            void *lib = dlopen(candidates[i].c_str(), RTLD_NOW | RTLD_LOCAL);
            if (lib == nullptr) {
                const char *err = dlerror();
                g_cublas_why += (g_cublas_why.empty() ? "" : "; ") + candidates[i] + ": " + (err ? err : "dlopen failed");
                continue;
            }
            cublas::Api api;
            if (sym(lib, "cublasCreate_v2", &api.create) && sym(lib, "cublasDestroy_v2", &api.destroy) &&
                sym(lib, "cublasSetStream_v2", &api.set_stream) && sym(lib, "cublasGemmEx", &api.gemm_ex)) {
                g_cublas = api;
                g_cublas_ok = true;   /* kept loaded for the life of the process */
                g_cublas_name = candidates[i];
            } else {
                g_cublas_why += (g_cublas_why.empty() ? "" : "; ") + candidates[i] + " lacks a cuBLAS symbol";
                dlclose(lib);
            }
        }
    }
    if (why != nullptr) *why = g_cublas_ok ? g_cublas_name : g_cublas_why;
    return g_cublas_ok ? &g_cublas : nullptr;
}

int Gemm::init(cudaStream_t stream) {
    stream_ = stream;
    if (cublas_disabled(&why_)) return LP_OK;
    std::string what;
    const cublas::Api *api = load_cublas(&what);
    if (api == nullptr) {
        why_ = what;   /* the own kernel; why_ says why */
        return LP_OK;
    }
    cublas::cublasHandle_t h = nullptr;
    cublas::cublasStatus_t st = api->create(&h);
    if (st != cublas::CUBLAS_STATUS_SUCCESS) {
        /* e.g. a cuBLAS built for a newer driver: fall back rather than fail */
        why_ = "cublasCreate_v2 returned status " + std::to_string(st);
        return LP_OK;
    }
    st = api->set_stream(h, stream);
    if (st != cublas::CUBLAS_STATUS_SUCCESS) {
        api->destroy(h);
        return fail(LP_ERR_CUDA, "cublasSetStream_v2 returned status %d", st);
    }
    api_ = api;
    handle_ = h;
    library_ = what;
    return LP_OK;
}

void Gemm::release() {
    if (handle_ != nullptr) api_->destroy(handle_);
    handle_ = nullptr;
}

Gemm::~Gemm() { release(); }

int Gemm::run(const void *x, const void *W, int dtype, float *y, int64_t R, int64_t N, int64_t K) {
    if (R == 0) return LP_OK;
    if (R > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return fail(LP_ERR_INVALID_ARGUMENT, "engine GEMM: sizes beyond int32 (R=%lld N=%lld K=%lld)", (long long)R,
                    (long long)N, (long long)K);
    if (dtype != LP_F32 && dtype != LP_BF16) return fail(LP_ERR_INVALID_ARGUMENT, "engine GEMM: dtype %d", dtype);
    if (handle_ != nullptr) {
        /* Row-major y[R,N] = x[R,K]·W[N,K]ᵀ is column-major yᵀ[N,R] = op(W)·xᵀ with W read as the
         * column-major K×N matrix Wᵀ (transposed back: CUBLAS_OP_T, lda = K) and xᵀ column-major K×R. */
        const cudaDataType_t t = dtype == LP_F32 ? CUDA_R_32F : CUDA_R_16BF;
        const float alpha = 1.0f, beta = 0.0f;
        cublas::cublasStatus_t st =
            api_->gemm_ex(handle_, cublas::CUBLAS_OP_T, cublas::CUBLAS_OP_N, int(N), int(R), int(K), &alpha, W, t,
                          int(K), x, t, int(K), &beta, y, CUDA_R_32F, int(N), cublas::CUBLAS_COMPUTE_32F,
                          cublas::CUBLAS_GEMM_DEFAULT);
        if (st != cublas::CUBLAS_STATUS_SUCCESS)
            return fail(LP_ERR_CUDA, "cublasGemmEx (%s, R=%lld N=%lld K=%lld) returned status %d", dtype_name(dtype),
                        (long long)R, (long long)N, (long long)K, st);
        return LP_OK;
    }
    const dim3 block(kTile, kTile);
    const dim3 grid(static_cast<unsigned>((N + kTile - 1) / kTile), static_cast<unsigned>((R + kTile - 1) / kTile));
    if (grid.y > 65535) return fail(LP_ERR_INVALID_ARGUMENT, "engine GEMM: R=%lld rows too many", (long long)R);
    if (dtype == LP_F32)
        gemm_nt_tiled_kernel<float><<<grid, block, 0, stream_>>>(static_cast<const float *>(x),
                                                                 static_cast<const float *>(W), y, int(R), int(N), int(K));
    else
        gemm_nt_tiled_kernel<__nv_bfloat16><<<grid, block, 0, stream_>>>(
            static_cast<const __nv_bfloat16 *>(x), static_cast<const __nv_bfloat16 *>(W), y, int(R), int(N), int(K));
    LPCUDA_CHECK_LAUNCH("gemm_nt_tiled_kernel");
    return LP_OK;
}

}  // namespace lpcuda
