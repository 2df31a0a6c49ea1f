/*
 * Fused masked linear cross-entropy, CUDA backend (contract in cpp/include/linchpin.h). The same plan as
 * the CPU twin (cpp/src/cpu/masked_linear_ce.cpp), with cuBLAS for the GEMMs:
 *
 *   0. cudaMemsetAsync(dh, 0): rows with w == 0 keep dh = 0, the others are overwritten in step 3.
 *   1. Compaction on the device: per 1024-row block the count of rows with w != 0 and their max |w|
 *      (compact_count), one block scans the counts into offsets and writes the header {count, max|w|}
 *      (compact_scan), and compact_scatter writes idx[0, count) = those rows in ascending order (and
 *      logp = entropy = 0 for the others). Selected rows are only reached through idx[], so the h rows
 *      and targets of masked rows are never read: NaN or garbage there cannot reach any output.
 *      The host then waits for the 8-byte header: the GEMM sizes depend on the count.
 *   2. Per chunk of R selected rows (R from the caller's budget, lp_masked_linear_ce_row_bytes per row):
 *        gather:   Hc [R, D] = h[idx[c0 .. c0 + R)]                     (input dtype)
 *        GEMM 1:   Z [R, V] = Hc · Wᵀ                                   (cuBLAS, fp32 out and accumulation)
 *        row pass: one block per row: online max / Σexp / Σexp·(z − m) over its row, then the loss,
 *                  log p and entropy of the row, and G = s · (w/denom) · (softmax − onehot) written in
 *                  the input dtype (fp32: in place over Z)
 *        GEMM 2:   dHc [R, D] = (1/s) · G · W, then scattered to dh[idx]  (fp32 out)
 *        GEMM 3:   dW += (1/s) · Gᵀ · Hc                                (β = 1: no atomics, no locks)
 *                  LP_DW_STORE: dW in the input dtype, β = 0 on the first chunk (no read of dW at all)
 *      s is a power of two (exact to apply and undo) that puts max |w/denom| in [2^14, 2^15): for fp16
 *      the gradient rows would otherwise underflow (w/denom · p is often below fp16's 6e-8); bf16 has
 *      fp32's range and the same scale does no harm. For fp32 inputs s = 1.
 *   3. loss = Σ per-row losses in a fixed order (one block, double): deterministic, no atomics.
 *
 * Numerics: 16-bit inputs give 16-bit G, as PyTorch's autograd does for 16-bit logits (relative
 * rounding 2^-9 for bf16, 2^-11 for fp16); the logits, the row statistics and every GEMM accumulate in
 * fp32, and the loss in double. cuBLAS runs in its default math mode (no TF32 for fp32 inputs).
 * cuBLAS comes from engine_gemm.cu's run-time loader (LINCHPIN_CUBLAS_LIB, libcublas.so.13, .12); one
 * handle per device is taken from a small pool for each call and bound to the caller's stream.
 */
#include "common.cuh"
#include "engine_gemm.cuh"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

namespace lpcuda {
namespace mlce {

constexpr int SCAN_NT = 1024;   /* threads (= rows) per compaction block */
constexpr int ROW_NT = 512;     /* threads per row of the row pass */
constexpr int COPY_NT = 256;    /* gather / scatter */
constexpr int REDUCE_NT = 1024;
constexpr unsigned FULL_MASK = 0xffffffffu;
constexpr int GRAD_SCALE_EXP = 14;   /* max |w/denom| · s lands in [2^14, 2^15) */

/* Written by compact_scan, copied to the host. */
struct Header {
    int count;
    float max_abs_w;
};

/* ---------------------------------------------------------------------------------------------
 * Workspace plan: a pure function of (N, D, V, dtype, chunk budget).
 * --------------------------------------------------------------------------------------------- */
struct Plan {
    int64_t nb = 0;          /* compaction blocks */
    int64_t max_rows = 0;    /* rows the chunk buffers hold */
    int64_t off_header = 0, off_blkcnt = 0, off_blkoff = 0, off_blkmax = 0, off_idx = 0, off_loss = 0,
            off_z = 0, off_g = 0, off_hc = 0, off_dhc = 0;
    int64_t total = 0;
};

inline int64_t align256(int64_t x) { return (x + 255) & ~int64_t(255); }

/* -1 when the budget cannot hold one row (the message is set). */
inline int make_plan(int64_t N, int64_t D, int64_t V, int dtype, int64_t chunk_bytes, Plan *out) {
    const int64_t row = lp_masked_linear_ce_row_bytes(D, V, dtype);
    if (row < 0) return fail(LP_ERR_INVALID_ARGUMENT, "masked linear-CE: bad sizes D=%lld V=%lld or dtype %d",
                             (long long)D, (long long)V, dtype);
    const int64_t budget = chunk_bytes > 0 ? chunk_bytes : LP_CUDA_CE_DEFAULT_CHUNK_BYTES;
    if (budget < row)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "masked linear-CE: chunk budget of %lld bytes is below the %lld bytes one row needs (D=%lld, V=%lld)",
                    (long long)budget, (long long)row, (long long)D, (long long)V);
    const int64_t esz = static_cast<int64_t>(dtype_size(dtype));
    Plan p;
    p.nb = (N + SCAN_NT - 1) / SCAN_NT;
    p.max_rows = std::min(N, budget / row);
    int64_t o = 0;
    auto take = [&o](int64_t bytes) {
        const int64_t at = o;
        o = align256(o + bytes);
        return at;
    };
    p.off_header = take(sizeof(Header));
    p.off_blkcnt = take(sizeof(int) * p.nb);
    p.off_blkoff = take(sizeof(int) * p.nb);
    p.off_blkmax = take(sizeof(float) * p.nb);
    p.off_idx = take(sizeof(int) * N);
    p.off_loss = take(sizeof(double) * N);
    p.off_z = take(sizeof(float) * p.max_rows * V);
    p.off_g = dtype == LP_F32 ? p.off_z : take(esz * p.max_rows * V);
    p.off_hc = take(esz * p.max_rows * D);
    p.off_dhc = take(sizeof(float) * p.max_rows * D);
    p.total = o;
    *out = p;
    return LP_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Device helpers
 * --------------------------------------------------------------------------------------------- */
__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(FULL_MASK, x, o));
    return x;
}
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(FULL_MASK, x, o);
    return x;
}

/* Block-wide max / sum of one float per thread (blockDim.x a multiple of 32); every thread gets it. */
template <bool IsMax>
__device__ float block_reduce(float x, float *s_warp) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    x = IsMax ? warp_max(x) : warp_sum(x);
    __syncthreads(); /* s_warp free from a previous call */
    if (lane == 0) s_warp[warp] = x;
    __syncthreads();
    float v = lane < nwarps ? s_warp[lane] : (IsMax ? -INFINITY : 0.f);
    return IsMax ? warp_max(v) : warp_sum(v);
}

/* Exclusive scan of one int per thread over the block (blockDim.x a multiple of 32, <= 1024).
 * `total` receives the block sum. Contains __syncthreads: call from all threads. */
__device__ int block_exclusive_scan(int v, int &total) {
    __shared__ int s_warp[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    int x = v;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const int n = __shfl_up_sync(FULL_MASK, x, o);
        if (lane >= o) x += n;
    }
    if (lane == 31) s_warp[warp] = x;
    __syncthreads();
    if (warp == 0) {
        int ws = lane < nwarps ? s_warp[lane] : 0;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int n = __shfl_up_sync(FULL_MASK, ws, o);
            if (lane >= o) ws += n;
        }
        s_warp[lane] = ws;
    }
    __syncthreads();
    const int excl = (warp > 0 ? s_warp[warp - 1] : 0) + x - v;
    total = s_warp[nwarps - 1];
    __syncthreads(); /* s_warp may be reused by the next call */
    return excl;
}

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
template <>
__device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }

/* ---------------------------------------------------------------------------------------------
 * 1. Compaction
 * --------------------------------------------------------------------------------------------- */
__global__ void __launch_bounds__(SCAN_NT) compact_count_kernel(const float *__restrict__ w, int64_t N,
                                                                int *__restrict__ blkcnt, float *__restrict__ blkmax) {
    __shared__ float s_warp[32];
    const int64_t i = int64_t(blockIdx.x) * SCAN_NT + threadIdx.x;
    const float wi = i < N ? w[i] : 0.f;
    const int c = __syncthreads_count(wi != 0.f);
    const float m = block_reduce<true>(fabsf(wi), s_warp);
    if (threadIdx.x == 0) {
        blkcnt[blockIdx.x] = c;
        blkmax[blockIdx.x] = m;
    }
}

__global__ void __launch_bounds__(SCAN_NT) compact_scan_kernel(const int *__restrict__ blkcnt,
                                                               const float *__restrict__ blkmax, int64_t nb,
                                                               int *__restrict__ blkoff, Header *__restrict__ header) {
    __shared__ float s_warp[32];
    int carry = 0;
    float m = 0.f;
    for (int64_t base = 0; base < nb; base += SCAN_NT) {
        const int64_t b = base + threadIdx.x;
        const int v = b < nb ? blkcnt[b] : 0;
        if (b < nb) m = fmaxf(m, blkmax[b]);
        int total = 0;
        const int excl = block_exclusive_scan(v, total);
        if (b < nb) blkoff[b] = carry + excl;
        carry += total;
    }
    m = block_reduce<true>(m, s_warp);
    if (threadIdx.x == 0) {
        header->count = carry;
        header->max_abs_w = m;
    }
}

__global__ void __launch_bounds__(SCAN_NT) compact_scatter_kernel(const float *__restrict__ w, int64_t N,
                                                                  const int *__restrict__ blkoff,
                                                                  int *__restrict__ idx, float *__restrict__ logp_out,
                                                                  float *__restrict__ entropy_out) {
    const int64_t i = int64_t(blockIdx.x) * SCAN_NT + threadIdx.x;
    const int flag = (i < N) && (w[i] != 0.f);
    int total = 0;
    const int excl = block_exclusive_scan(flag, total);
    if (flag) {
        idx[blkoff[blockIdx.x] + excl] = static_cast<int>(i);
    } else if (i < N) { /* rows with w == 0: logp / entropy are defined as 0 */
        if (logp_out) logp_out[i] = 0.f;
        if (entropy_out) entropy_out[i] = 0.f;
    }
}

/* ---------------------------------------------------------------------------------------------
 * 2. Per chunk: gather, row pass, scatter
 * --------------------------------------------------------------------------------------------- */
template <typename T>
__global__ void __launch_bounds__(COPY_NT) gather_rows_kernel(const T *__restrict__ h, const int *__restrict__ idx,
                                                              int64_t D, T *__restrict__ hc) {
    const T *src = h + int64_t(idx[blockIdx.x]) * D;
    T *dst = hc + int64_t(blockIdx.x) * D;
    for (int64_t k = threadIdx.x; k < D; k += COPY_NT) dst[k] = src[k];
}

__global__ void __launch_bounds__(COPY_NT) scatter_rows_kernel(const float *__restrict__ dhc, const int *__restrict__ idx,
                                                               int64_t D, float *__restrict__ dh) {
    const float *src = dhc + int64_t(blockIdx.x) * D;
    float *dst = dh + int64_t(idx[blockIdx.x]) * D;
    for (int64_t k = threadIdx.x; k < D; k += COPY_NT) dst[k] = src[k];
}

/*
 * One block per chunk row r: z = Z[r, :] (fp32 logits). Thread-strided online statistics: running max
 * m, s = Σ exp(z − m) and t = Σ exp(z − m)·(z − m), rescaled when m grows; merged over the block at the
 * block max M. Then lse = M + log S, entropy = log S − T/S, log p = z[y] − lse, loss = −w · log p, and
 * (when G != nullptr) G[r, v] = gscale · (w/denom) · (exp(z_v − lse) − [v == y]) in T.
 * For T = float, G may alias Z (each element is read once before it is written, by the same thread).
 */
template <typename T>
__global__ void __launch_bounds__(ROW_NT) row_pass_kernel(const float *Z, const int *__restrict__ idx,
                                                          const int64_t *__restrict__ y, const float *__restrict__ w,
                                                          int64_t V, double denom, float gscale, T *G,
                                                          double *__restrict__ loss_rows, float *__restrict__ logp_out,
                                                          float *__restrict__ entropy_out) {
    __shared__ float s_warp[32];
    const int64_t r = blockIdx.x;
    const int64_t i = idx[r];
    const int64_t target = y[i];
    const float *z = Z + r * V;
    /* Read before any thread overwrites the row. A target outside [0, V) (possible only when the caller
     * skipped validation) is never used as an index: the row's loss becomes NaN instead. */
    const bool target_ok = target >= 0 && target < V;
    const float z_target = target_ok ? z[target] : NAN;

    float m = -INFINITY, s = 0.f, t = 0.f;
    for (int64_t v = threadIdx.x; v < V; v += ROW_NT) {
        const float zv = z[v];
        if (zv > m) {
            if (m != -INFINITY) {
                const float shift = zv - m, rsc = __expf(-shift);
                t = rsc * (t - shift * s);
                s = rsc * s;
            }
            m = zv;
        }
        const float d = zv - m, e = __expf(d);
        s += e;
        t += e * d;
    }
    const float M = block_reduce<true>(m, s_warp);
    if (m != -INFINITY) { /* re-base this thread's sums on M: Σ e'·(z − M) = r·(t + (m − M)·s) */
        const float rsc = __expf(m - M);
        t = rsc * (t + (m - M) * s);
        s = rsc * s;
    } else {
        s = t = 0.f;
    }
    const float S = block_reduce<false>(s, s_warp);
    const float Tt = block_reduce<false>(t, s_warp);
    const float log_s = logf(S);
    const float lse = M + log_s;
    if (threadIdx.x == 0) {
        const double weight = w[i];
        const double logp = double(z_target) - double(lse);
        loss_rows[r] = -weight * logp;
        if (logp_out) logp_out[i] = float(logp);
        if (entropy_out) entropy_out[i] = log_s - Tt / S;
    }
    if (G == nullptr) return;
    __syncthreads(); /* every thread has read z_target and its row elements' maxima before G overwrites Z */
    const float coef = float(double(w[i]) / denom * double(gscale));
    T *g = G + r * V;
    for (int64_t v = threadIdx.x; v < V; v += ROW_NT) {
        const float p = __expf(z[v] - lse);
        g[v] = from_float<T>(coef * (v == target ? p - 1.f : p));
    }
}

__global__ void __launch_bounds__(REDUCE_NT) loss_reduce_kernel(const double *__restrict__ loss_rows,
                                                                const Header *__restrict__ header, double denom,
                                                                float *__restrict__ loss_out) {
    __shared__ double s_part[REDUCE_NT / 32];
    const int64_t count = header->count;
    double acc = 0.0;
    for (int64_t r = threadIdx.x; r < count; r += REDUCE_NT) acc += loss_rows[r];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(FULL_MASK, acc, o);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) s_part[warp] = acc;
    __syncthreads();
    if (warp == 0) {
        acc = s_part[lane];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(FULL_MASK, acc, o);
        if (lane == 0) *loss_out = static_cast<float>(acc / denom);
    }
}

/* ---------------------------------------------------------------------------------------------
 * cuBLAS: the run-time library and a pool of handles (cublasCreate is slow; a handle serves one call
 * at a time, on any thread).
 * --------------------------------------------------------------------------------------------- */
std::mutex g_pool_mutex;
std::vector<std::pair<int, cublas::cublasHandle_t>> g_free_handles;   /* (device, handle), never destroyed */

class PooledHandle {
public:
    PooledHandle() = default;
    ~PooledHandle() {
        if (handle_ == nullptr) return;
        std::lock_guard<std::mutex> lock(g_pool_mutex);
        g_free_handles.emplace_back(device_, handle_);
    }
    PooledHandle(const PooledHandle &) = delete;
    PooledHandle &operator=(const PooledHandle &) = delete;

    /* LP_ERR_UNAVAILABLE naming the library when cuBLAS cannot be loaded. */
    int acquire(cudaStream_t stream) {
        const char *env = std::getenv("LINCHPIN_CUBLAS_LIB");
        if (env != nullptr && (std::strcmp(env, "off") == 0 || std::strcmp(env, "none") == 0))
            return fail(LP_ERR_UNAVAILABLE,
                        "masked linear-CE: its GEMMs need cuBLAS, which LINCHPIN_CUBLAS_LIB=%s disables", env);
        std::string why;
        api_ = load_cublas(&why);
        if (api_ == nullptr)
            return fail(LP_ERR_UNAVAILABLE,
                        "masked linear-CE: its GEMMs need cuBLAS, which could not be loaded (%s); every CUDA PyTorch "
                        "install ships it (site-packages/nvidia/cublas/lib): point LINCHPIN_CUBLAS_LIB at "
                        "libcublas.so.N",
                        why.c_str());
        LPCUDA_CHECK(cudaGetDevice(&device_), "cudaGetDevice");
        {
            std::lock_guard<std::mutex> lock(g_pool_mutex);
            for (size_t k = 0; k < g_free_handles.size(); ++k) {
                if (g_free_handles[k].first == device_) {
                    handle_ = g_free_handles[k].second;
                    g_free_handles.erase(g_free_handles.begin() + static_cast<std::ptrdiff_t>(k));
                    break;
                }
            }
        }
        if (handle_ == nullptr) {
            const cublas::cublasStatus_t st = api_->create(&handle_);
            if (st != cublas::CUBLAS_STATUS_SUCCESS) {
                handle_ = nullptr;
                return fail(LP_ERR_CUDA, "masked linear-CE: cublasCreate_v2 (%s) returned status %d", why.c_str(), st);
            }
        }
        const cublas::cublasStatus_t st = api_->set_stream(handle_, stream);
        if (st != cublas::CUBLAS_STATUS_SUCCESS)
            return fail(LP_ERR_CUDA, "masked linear-CE: cublasSetStream_v2 returned status %d", st);
        return LP_OK;
    }

    /* Column-major C[m, n] = alpha · op(A) · op(B) + beta · C, A and B in `ab`, C in `c_type` (fp32 unless
     * said), fp32 compute. */
    int gemm(const char *what, cublas::cublasOperation_t ta, cublas::cublasOperation_t tb, int64_t m, int64_t n,
             int64_t k, float alpha, const void *A, int64_t lda, const void *B, int64_t ldb, float beta, void *C,
             int64_t ldc, cudaDataType_t ab, cudaDataType_t c_type = CUDA_R_32F) const {
        const cublas::cublasStatus_t st =
            api_->gemm_ex(handle_, ta, tb, int(m), int(n), int(k), &alpha, A, ab, int(lda), B, ab, int(ldb), &beta, C,
                          c_type, int(ldc), cublas::CUBLAS_COMPUTE_32F, cublas::CUBLAS_GEMM_DEFAULT);
        if (st != cublas::CUBLAS_STATUS_SUCCESS)
            return fail(LP_ERR_CUDA, "masked linear-CE: cublasGemmEx (%s, m=%lld n=%lld k=%lld) returned status %d",
                        what, (long long)m, (long long)n, (long long)k, st);
        return LP_OK;
    }

private:
    const cublas::Api *api_ = nullptr;
    cublas::cublasHandle_t handle_ = nullptr;
    int device_ = 0;
};

template <typename T>
constexpr cudaDataType_t cuda_type() {
    return std::is_same<T, float>::value ? CUDA_R_32F : std::is_same<T, __half>::value ? CUDA_R_16F : CUDA_R_16BF;
}

/* ---------------------------------------------------------------------------------------------
 * Host side
 * --------------------------------------------------------------------------------------------- */
template <typename T>
int run(const T *h, const T *W, const int64_t *y, const float *w, int64_t N, int64_t D, int64_t V, double denom,
        float *loss_out, float *dh, void *dW, int dw_mode, float *logp_out, float *entropy_out, const Plan &p,
        unsigned char *ws, cudaStream_t st) {
    PooledHandle blas;
    int status = blas.acquire(st);
    if (status != LP_OK) return status;

    Header *header = reinterpret_cast<Header *>(ws + p.off_header);
    int *blkcnt = reinterpret_cast<int *>(ws + p.off_blkcnt);
    int *blkoff = reinterpret_cast<int *>(ws + p.off_blkoff);
    float *blkmax = reinterpret_cast<float *>(ws + p.off_blkmax);
    int *idx = reinterpret_cast<int *>(ws + p.off_idx);
    double *loss_rows = reinterpret_cast<double *>(ws + p.off_loss);
    float *Z = reinterpret_cast<float *>(ws + p.off_z);
    T *G = reinterpret_cast<T *>(ws + p.off_g);
    T *Hc = reinterpret_cast<T *>(ws + p.off_hc);
    float *dHc = reinterpret_cast<float *>(ws + p.off_dhc);

    if (dh) LPCUDA_CHECK(cudaMemsetAsync(dh, 0, sizeof(float) * size_t(N) * size_t(D), st), "cudaMemsetAsync(dh)");
    const unsigned nb = static_cast<unsigned>(p.nb);
    compact_count_kernel<<<nb, SCAN_NT, 0, st>>>(w, N, blkcnt, blkmax);
    LPCUDA_CHECK_LAUNCH("compact_count_kernel");
    compact_scan_kernel<<<1, SCAN_NT, 0, st>>>(blkcnt, blkmax, p.nb, blkoff, header);
    LPCUDA_CHECK_LAUNCH("compact_scan_kernel");
    compact_scatter_kernel<<<nb, SCAN_NT, 0, st>>>(w, N, blkoff, idx, logp_out, entropy_out);
    LPCUDA_CHECK_LAUNCH("compact_scatter_kernel");
    Header host{};
    LPCUDA_CHECK(cudaMemcpyAsync(&host, header, sizeof host, cudaMemcpyDeviceToHost, st), "cudaMemcpyAsync(row count)");
    LPCUDA_CHECK(cudaStreamSynchronize(st), "cudaStreamSynchronize (row count)");
    const int64_t M = host.count;
    const bool store = dw_mode == LP_DW_STORE;
    if (dW && store && M == 0) /* nothing selected: the stored gradient is zero */
        LPCUDA_CHECK(cudaMemsetAsync(dW, 0, sizeof(T) * size_t(V) * size_t(D), st), "cudaMemsetAsync(dW)");

    /* The gradient scale: a power of two, exact to apply and undo. */
    float gscale = 1.f;
    const bool want_grad = dh != nullptr || dW != nullptr;
    if (!std::is_same<T, float>::value && want_grad && M > 0) {
        const double cmax = double(host.max_abs_w) / std::fabs(denom);
        int e = 0;
        std::frexp(cmax, &e);   /* cmax in [2^(e-1), 2^e) */
        const int shift = std::max(-100, std::min(100, GRAD_SCALE_EXP + 1 - e));
        gscale = std::ldexp(1.f, shift);
    }

    if (M > 0) {
        const int64_t max_rows = std::min(M, p.max_rows);
        const int64_t chunks = (M + max_rows - 1) / max_rows;
        const int64_t R = (M + chunks - 1) / chunks;
        constexpr cudaDataType_t ab = cuda_type<T>();
        const float inv = 1.f / gscale;
        for (int64_t c0 = 0; c0 < M; c0 += R) {
            const int64_t rn = std::min(R, M - c0);
            const unsigned grid = static_cast<unsigned>(rn);
            gather_rows_kernel<T><<<grid, COPY_NT, 0, st>>>(h, idx + c0, D, Hc);
            LPCUDA_CHECK_LAUNCH("gather_rows_kernel");
            /* Row-major Z[rn, V] = Hc · Wᵀ is column-major Zᵀ[V, rn] = op_T(W as D×V) · (Hc as D×rn). */
            status = blas.gemm("logits", cublas::CUBLAS_OP_T, cublas::CUBLAS_OP_N, V, rn, D, 1.f, W, D, Hc, D, 0.f,
                               Z, V, ab);
            if (status != LP_OK) return status;
            row_pass_kernel<T><<<grid, ROW_NT, 0, st>>>(Z, idx + c0, y, w, V, denom, gscale, want_grad ? G : nullptr,
                                                        loss_rows + c0, logp_out, entropy_out);
            LPCUDA_CHECK_LAUNCH("row_pass_kernel");
            if (dh) { /* dHcᵀ[D, rn] = (W as D×V) · (G as V×rn) */
                status = blas.gemm("dh", cublas::CUBLAS_OP_N, cublas::CUBLAS_OP_N, D, rn, V, inv, W, D, G, V, 0.f,
                                   dHc, D, ab);
                if (status != LP_OK) return status;
                scatter_rows_kernel<<<grid, COPY_NT, 0, st>>>(dHc, idx + c0, D, dh);
                LPCUDA_CHECK_LAUNCH("scatter_rows_kernel");
            }
            if (dW) { /* dWᵀ[D, V] += (Hc as D×rn) · op_T(G as V×rn); stored: the first chunk writes it */
                const float beta = store && c0 == 0 ? 0.f : 1.f;
                status = blas.gemm("dW", cublas::CUBLAS_OP_N, cublas::CUBLAS_OP_T, D, V, rn, inv, Hc, D, G, V, beta, dW,
                                   D, ab, store ? ab : CUDA_R_32F);
                if (status != LP_OK) return status;
            }
        }
    }
    loss_reduce_kernel<<<1, REDUCE_NT, 0, st>>>(loss_rows, header, denom, loss_out);
    LPCUDA_CHECK_LAUNCH("loss_reduce_kernel");
    return LP_OK;
}

constexpr int64_t kMaxDim = 0x7fffffff; /* int32 row indices, cuBLAS dimensions and leading dimensions */

inline int check_sizes(int64_t N, int64_t D, int64_t V, int dtype) {
    if (dtype_size(dtype) == 0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: unknown dtype %d", dtype);
    if (N < 0 || D < 1 || V < 1)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "lpcuda_masked_linear_ce: need N >= 0, D >= 1, V >= 1 (got N=%lld D=%lld V=%lld)",
                    static_cast<long long>(N), static_cast<long long>(D), static_cast<long long>(V));
    if (N >= kMaxDim || D >= kMaxDim || V >= kMaxDim)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "lpcuda_masked_linear_ce: N, D and V must each be < 2^31 (got N=%lld D=%lld V=%lld)",
                    static_cast<long long>(N), static_cast<long long>(D), static_cast<long long>(V));
    return LP_OK;
}

}  // namespace mlce
}  // namespace lpcuda

extern "C" {

LPCUDA_EXPORT int64_t lpcuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype,
                                                             int64_t chunk_bytes) {
    using namespace lpcuda::mlce;
    lpcuda::clear_error();
    if (check_sizes(N, D, V, dtype) != LP_OK || chunk_bytes < 0) return -1;
    Plan p;
    if (make_plan(N, D, V, dtype, chunk_bytes, &p) != LP_OK) return -1;
    return p.total;
}

LPCUDA_EXPORT int lpcuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                                          int64_t N, int64_t D, int64_t V, double denom, float *loss_out, float *dh,
                                          void *dW, int dw_mode, float *logp_out, float *entropy_out, void *workspace,
                                          int64_t workspace_bytes, int64_t chunk_bytes, void *stream) {
    using namespace lpcuda;
    using namespace lpcuda::mlce;
    clear_error();
    int st = check_sizes(N, D, V, dtype);
    if (st != LP_OK) return st;
    if (!loss_out) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: loss_out is NULL");
    if (!std::isfinite(denom) || denom == 0.0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: denom must be finite and nonzero (got %g)",
                    denom);
    if (chunk_bytes < 0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: chunk budget must be >= 0 (got %lld)",
                    static_cast<long long>(chunk_bytes));
    if (dw_mode != LP_DW_ACCUMULATE_F32 && dw_mode != LP_DW_STORE)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: unknown dW mode %d", dw_mode);
    cudaStream_t stm = static_cast<cudaStream_t>(stream);
    if (N == 0) { /* nothing selected: loss 0, dh (empty), dW unchanged (accumulated) or zero (stored) */
        LPCUDA_CHECK(cudaMemsetAsync(loss_out, 0, sizeof(float), stm), "cudaMemsetAsync(loss_out)");
        if (dW && dw_mode == LP_DW_STORE)
            LPCUDA_CHECK(cudaMemsetAsync(dW, 0, dtype_size(dtype) * size_t(V) * size_t(D), stm), "cudaMemsetAsync(dW)");
        return LP_OK;
    }
    if (!h || !W || !y || !w)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: h, W, y and w must be non-NULL");
    Plan p;
    st = make_plan(N, D, V, dtype, chunk_bytes, &p);
    if (st != LP_OK) return st;
    if (!workspace || workspace_bytes < p.total)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "lpcuda_masked_linear_ce: workspace too small (%lld bytes given, %lld needed for N=%lld D=%lld "
                    "V=%lld and this chunk budget)",
                    static_cast<long long>(workspace ? workspace_bytes : 0), static_cast<long long>(p.total),
                    static_cast<long long>(N), static_cast<long long>(D), static_cast<long long>(V));
    if ((reinterpret_cast<uintptr_t>(workspace) & 255u) != 0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: workspace must be 256-byte aligned");

    if (dtype == LP_BF16) { /* cuBLAS's bf16 GEMMs need sm_80 */
        int dev = 0, major = 0;
        LPCUDA_CHECK(cudaGetDevice(&dev), "cudaGetDevice");
        LPCUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev),
                     "cudaDeviceGetAttribute(compute capability)");
        if (major < 8)
            return fail(LP_ERR_UNAVAILABLE,
                        "lpcuda_masked_linear_ce: bf16 needs a device of compute capability >= 8.0 (device %d is %d.x)",
                        dev, major);
    }

    unsigned char *ws = static_cast<unsigned char *>(workspace);
    switch (dtype) {
        case LP_F32:
            return run(static_cast<const float *>(h), static_cast<const float *>(W), y, w, N, D, V, denom, loss_out,
                       dh, dW, dw_mode, logp_out, entropy_out, p, ws, stm);
        case LP_BF16:
            return run(static_cast<const __nv_bfloat16 *>(h), static_cast<const __nv_bfloat16 *>(W), y, w, N, D, V,
                       denom, loss_out, dh, dW, dw_mode, logp_out, entropy_out, p, ws, stm);
        case LP_F16:
            return run(static_cast<const __half *>(h), static_cast<const __half *>(W), y, w, N, D, V, denom,
                       loss_out, dh, dW, dw_mode, logp_out, entropy_out, p, ws, stm);
        default:
            return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: unknown dtype %d", dtype);
    }
}

}  // extern "C"
