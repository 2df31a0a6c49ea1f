/*
 * Element-wise and data-movement kernels of the engine's CUDA backend (engine_backend.cu), the
 * device twins of cpp/src/engine/cpu_backend.cpp's loops with the same arithmetic: activations fp32,
 * weights/KV of type T (float or __nv_bfloat16) widened on load. All launches on the engine's stream.
 */
#ifndef LINCHPIN_KERNELS_ENGINE_OPS_CUH
#define LINCHPIN_KERNELS_ENGINE_OPS_CUH

#include "common.cuh"

namespace lpcuda::engine_ops {

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

/* x[r, :] = embed[tokens[r], :] (widened to fp32). */
template <typename T>
__global__ void embed_kernel(const int64_t *__restrict__ tokens, const T *__restrict__ embed, int64_t D, int64_t R,
                             float *__restrict__ x) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= R * D) return;
    const int64_t r = i / D, c = i % D;
    x[i] = to_float(embed[tokens[r] * D + c]);
}

/* RMSNorm of every group of n consecutive floats, one block per group (transformers' order of
 * operations: weight · (x · rsqrt(mean(x²) + eps))). y may alias x: each thread writes what it read. */
__global__ void rms_norm_kernel(const float *x, int64_t n, const float *__restrict__ weight, float eps, float *y) {
    __shared__ float partial[kThreads];
    const float *xi = x + int64_t(blockIdx.x) * n;
    float *yi = y + int64_t(blockIdx.x) * n;
    float ss = 0.0f;
    for (int64_t c = threadIdx.x; c < n; c += blockDim.x) ss = fmaf(xi[c], xi[c], ss);
    partial[threadIdx.x] = ss;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    const float inv = 1.0f / sqrtf(partial[0] / static_cast<float>(n) + eps);
    for (int64_t c = threadIdx.x; c < n; c += blockDim.x) yi[c] = weight[c] * (xi[c] * inv);
}

/* y[r, c] += bias[c] over [R, N]. */
__global__ void add_bias_kernel(float *__restrict__ y, const float *__restrict__ bias, int64_t R, int64_t N) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < R * N) y[i] += bias[i % N];
}

/* transformers' rotate_half RoPE on x [R, heads, d]: element c pairs with c + d/2, angle = position ·
 * inv_freq[c] in fp32. One thread per (row, head, c < d/2). */
__global__ void rope_kernel(float *__restrict__ x, const int64_t *__restrict__ positions,
                            const float *__restrict__ inv_freq, int64_t R, int64_t heads, int64_t d) {
    const int64_t half = d / 2;
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= R * heads * half) return;
    const int64_t c = i % half, rh = i / half, r = rh / heads;
    const float angle = static_cast<float>(positions[r]) * inv_freq[c];
    const float cs = cosf(angle), sn = sinf(angle);
    float *xh = x + rh * d;
    const float a = xh[c], b = xh[half + c];
    xh[c] = a * cs - b * sn;
    xh[half + c] = b * cs + a * sn;
}

/* x += o over n floats. */
__global__ void residual_kernel(float *__restrict__ x, const float *__restrict__ o, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) x[i] += o[i];
}

/* gate = silu(gate) · up over n floats (SwiGLU). */
__global__ void swiglu_kernel(float *__restrict__ gate, const float *__restrict__ up, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
}

/* out = (T) in over n floats (activations into a GEMM's input type). */
template <typename T>
__global__ void convert_kernel(const float *__restrict__ in, T *__restrict__ out, int64_t n) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = from_float<T>(in[i]);
}

/* Address of position `pos` of layer `layer`'s keys (kv = 0) or values (kv = 1) in a KV store laid out
 * [layers][2][capacity][width]. */
template <typename T>
__device__ __forceinline__ T *kv_at(uint64_t base, int64_t capacity, int64_t layer, int kv, int64_t pos,
                                    int64_t width) {
    return reinterpret_cast<T *>(base) + ((2 * layer + kv) * capacity + pos) * width;
}

/* Writes rows' new keys and values (fp32 [R, width]) to their destination stores:
 * plan_dest [R][3] = (store base address, capacity, index). */
template <typename T>
__global__ void kv_write_kernel(const float *__restrict__ k, const float *__restrict__ v,
                                const int64_t *__restrict__ plan_dest, int64_t R, int64_t width, int64_t layer) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= R * width) return;
    const int64_t r = i / width, c = i % width;
    const uint64_t base = static_cast<uint64_t>(plan_dest[3 * r]);
    const int64_t cap = plan_dest[3 * r + 1], idx = plan_dest[3 * r + 2];
    kv_at<T>(base, cap, layer, 0, idx, width)[c] = from_float<T>(k[i]);
    kv_at<T>(base, cap, layer, 1, idx, width)[c] = from_float<T>(v[i]);
}

/* Builds the staircase kernel's contiguous arrays: for gathered KV row g, plan_gather [G][3] = (source
 * store base, capacity, position), and kg/vg [G, width] copy the store's key/value; for query j,
 * qg [Q, qwidth] copies the q of row qgather[j] (fp32 -> T). */
template <typename T>
__global__ void gather_kernel(const int64_t *__restrict__ plan_gather, int64_t G, int64_t width,
                              const int64_t *__restrict__ qgather, int64_t Q, int64_t qwidth, int64_t layer,
                              const float *__restrict__ q, T *__restrict__ kg, T *__restrict__ vg,
                              T *__restrict__ qg) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t kv_items = G * width;
    if (i < kv_items) {   /* gathered KV row g: (store base, capacity, position) */
        const int64_t g = i / width, c = i % width;
        const int64_t *p = plan_gather + 3 * g;
        const uint64_t base = static_cast<uint64_t>(p[0]);
        kg[g * width + c] = *(kv_at<T>(base, p[1], layer, 0, p[2], width) + c);
        vg[g * width + c] = *(kv_at<T>(base, p[1], layer, 1, p[2], width) + c);
    } else if (i < kv_items + Q * qwidth) {   /* query j: row qgather[j]'s q */
        const int64_t j = (i - kv_items) / qwidth, c = (i - kv_items) % qwidth;
        qg[j * qwidth + c] = from_float<T>(q[qgather[j] * qwidth + c]);
    }
}

/* att[r, :] = outg[src[r], :] over [R, width] (the staircase output row that carries row r's query). */
__global__ void scatter_rows_kernel(const float *__restrict__ outg, const int64_t *__restrict__ src, int64_t R,
                                    int64_t width, float *__restrict__ att) {
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= R * width) return;
    const int64_t r = i / width, c = i % width;
    att[i] = outg[src[r] * width + c];
}

}  // namespace lpcuda::engine_ops

#endif
