/*
 * Fused masked linear cross-entropy, CUDA backend (see cpp/include/linchpin.h for the contract).
 *
 * Pipeline (everything enqueued on the caller's stream; no host synchronisation, no allocation):
 *
 *   0. cudaMemsetAsync(dh, 0)                                     (dh is overwritten; see step 5)
 *   1. Compaction on the device, three small kernels:
 *        compact_count   : per 1024-row block, how many rows have w != 0
 *        compact_scan    : one block, exclusive scan of those counts -> block offsets, and the
 *                          device-side row count `count`
 *        compact_scatter : idx[0..count) = the rows with w != 0 in ascending order (deterministic);
 *                          writes logp_out/entropy_out = 0 for the rows with w == 0.
 *      Selected rows are only ever reached through idx[], so the h rows and targets of rows with
 *      w == 0 are never read: NaN/Inf or garbage there cannot reach any output.
 *      Every later kernel is launched with a grid sized for the worst case (all N rows selected, or
 *      all vocabulary tiles) and reads `count` from device memory; blocks beyond it exit at once.
 *   2. forward_partials  grid (ceil(N/BM) row tiles, S vocabulary splits), 256 threads.
 *      A block takes BM=64 compacted rows and a vocabulary range of `split_cols` columns, walks it in
 *      BN=128-column tiles: logits tile Z[64x128] = H_rows * W_tile^T (K-loop over D in chunks, so D
 *      is unbounded by shared memory), then an online log-sum-exp per row: running max m,
 *      s = sum exp(z-m), t = sum exp(z-m)*(z-m) (shifted so entropy has no cancellation against
 *      lse), and the target logit when y falls in the tile. Partials (m, s, t) go to the workspace per
 *      (split, row); the target logit is written by the one block whose range holds y.
 *        bf16/fp16: tensor cores through nvcuda::wmma (m16n16k16, fp32 accumulation); 8 warps in a
 *                   2x4 arrangement, 32x32 logits per warp; K chunk 32.
 *        fp32:      SIMT fp32 FMA (so results match the fp32 CPU twin to ~1e-6); 4x8 logits per
 *                   thread; K chunk 16.
 *   3. merge             one thread per compacted row: combines the S partials -> lse, logp,
 *                        entropy, per-row loss w*(-logp)/denom (double), and the gradient scale
 *                        g = w/denom; scatters logp/entropy to the original row.
 *   4. loss_reduce       one block, fixed-order (strided + tree) double reduction of the per-row
 *                        losses -> loss_out. Deterministic, no atomics.
 *   5. backward          grid = ceil(V/BN) vocabulary tiles; a block OWNS its 128-row slice of dW and
 *                        loops over all compacted row tiles (count read on the device). Per row tile it
 *                        recomputes the logits tile (same code path and K order as the forward, so
 *                        bitwise the same logits), forms G = g*(softmax - onehot) in shared memory
 *                        (fp32), then walks D in chunks of BD=32 columns:
 *                          dW[vtile, chunk] += G^T * H_rows[:, chunk]   plain read-modify-write: the
 *                                              block owns those dW rows -> no atomics, deterministic.
 *                          dh[rows, chunk]  += G * W_tile[:, chunk]     fp32 atomicAdd (RED): the only
 *                                              place where partial sums of different blocks (the
 *                                              ceil(V/BN) vocabulary tiles) meet. dh is therefore not
 *                                              bitwise deterministic (fp32 sum order of those atomics).
 *                        Blocks start at row tile (blockIdx.x mod #row tiles) and wrap around, so the
 *                        concurrently running blocks hit different dh rows (less atomic contention).
 *        bf16/fp16: the two backward GEMMs run on tensor cores in TF32 (m16n16k8): H and W values are
 *                   exact in TF32 (bf16 and fp16 both fit its 11-bit significand and 8-bit exponent),
 *                   G is rounded to TF32 (relative 2^-11). A 16-bit G would lose either precision
 *                   (bf16: 2^-8) or range (fp16 underflows for small w/denom), hence TF32.
 *        fp32:      SIMT fp32 FMA.
 *
 * Deviations from the requested design, with reasons:
 *   - The backward kernel's grid is sized by the vocabulary (one block per vocabulary tile, looping
 *     over the device-side row count) rather than by N: this is the "block owns a vocab tile" option
 *     of the brief, chosen so dW needs no atomics and is deterministic. Its parallelism is
 *     ceil(V/128) blocks (1000 for V = 128k), independent of the density.
 *   - The number of vocabulary splits S of the forward depends only on V (about V/1024 columns per
 *     split, at most 64 splits), never on the device, so the workspace size is a pure function of
 *     (N, D, V, dtype): 256-byte aligned buffers of 4*ceil(N/1024) ints, idx/zt/lse/g (4 B per row),
 *     per-row loss (8 B) and 3 partials per (split, row): about (24 + 12*S) bytes per row.
 *   - No cp.async / multi-stage shared-memory pipeline: the K-loops are single-buffered in shared
 *     memory with a register prefetch of the next chunk (its global loads are in flight during the
 *     MMAs of the current one); clarity was preferred over heroic tuning, as the brief asks.
 *   - Launch bounds (256 threads, 2 blocks/SM) cap registers at 128; the bf16/fp16 backward spills a
 *     few dozen bytes on sm_80 (outside the MMA loops), accepted for the doubled occupancy.
 *   - bf16/fp16 need compute capability >= 8.0 (bf16 wmma, TF32); the launcher returns
 *     LP_ERR_UNAVAILABLE on older devices. fp32 runs anywhere the binary does.
 *
 * Index math: N < 2^31 (compacted row indices are int32), V and D < 2^31; every offset into h, W, dh,
 * dW is computed in int64.
 */
#include "common.cuh"

#include <mma.h>

#include <cmath>
#include <type_traits>

namespace lpcuda {
namespace mlce {

/* ---------------------------------------------------------------------------------------------
 * Tile configuration
 * --------------------------------------------------------------------------------------------- */
constexpr int NT = 256;           /* threads per block of the tile kernels (8 warps) */
constexpr int NWARPS = NT / 32;
constexpr int BM = 64;            /* compacted rows per tile */
constexpr int BN = 128;           /* vocabulary columns per tile */
constexpr int CSTR = BN + 4;      /* row stride (floats) of the logits / G tile in shared memory */
constexpr int BD = 32;            /* D columns per backward chunk */
constexpr int XSTR = BD + 4;      /* row stride (floats) of the backward chunk buffers */

constexpr int TC_BK = 32;             /* K chunk of the tensor-core logits tile */
constexpr int TC_STR = TC_BK + 8;     /* row stride (16-bit elements) of its A/B buffers */
constexpr int SIMT_BK = 16;           /* K chunk of the fp32 logits tile */
constexpr int SIMT_ASTR = BM + 1;     /* As is [k][row], padded against bank conflicts */
constexpr int SIMT_BSTR = BN + 1;     /* Bs is [k][vocab] */

constexpr int ROWS_PER_WARP = BM / NWARPS; /* forward epilogue: rows handled by one warp */

constexpr int64_t SPLIT_MIN_COLS = 1024;   /* target vocabulary columns per forward split */
constexpr int MAX_SPLITS = 64;

constexpr int SCAN_NT = 1024;              /* threads (= rows) per compaction block */
constexpr int MERGE_NT = 256;
constexpr int REDUCE_NT = 1024;

constexpr size_t CS_BYTES = sizeof(float) * BM * CSTR;                    /* logits / G tile */
constexpr size_t TC_IN_BYTES = 2 * (BM + BN) * TC_STR;                    /* 16-bit A + B */
constexpr size_t SIMT_IN_BYTES = sizeof(float) * SIMT_BK * (SIMT_ASTR + SIMT_BSTR);
constexpr size_t CHUNK_BYTES = sizeof(float) * (BM + BN) * XSTR;          /* H/W chunks, staging */

static_assert(BM % NWARPS == 0, "rows per warp");
static_assert(BN == 4 * 32, "forward epilogue reads 4 columns per lane");
static_assert(NT == 256 && BM == 64 && BN == 128, "thread mappings below assume 256 x (64 x 128)");
static_assert(CS_BYTES % 128 == 0 && TC_IN_BYTES % 128 == 0, "shared-memory regions stay 128-aligned");

template <typename T>
constexpr size_t in_bytes() {
    return std::is_same<T, float>::value ? SIMT_IN_BYTES : TC_IN_BYTES;
}
template <typename T>
constexpr size_t fwd_smem_bytes() {
    return CS_BYTES + in_bytes<T>();
}
template <typename T>
constexpr size_t bwd_smem_bytes() {
    return CS_BYTES + (in_bytes<T>() > CHUNK_BYTES ? in_bytes<T>() : CHUNK_BYTES);
}

/* ---------------------------------------------------------------------------------------------
 * Workspace plan: a pure function of (N, D, V, dtype).
 * --------------------------------------------------------------------------------------------- */
struct Plan {
    int64_t nb = 0;          /* compaction blocks */
    int64_t splits = 1;      /* S */
    int64_t split_cols = BN; /* columns per split, a multiple of BN */
    int64_t off_count = 0, off_blkcnt = 0, off_blkoff = 0, off_idx = 0, off_zt = 0, off_lse = 0,
            off_g = 0, off_loss = 0, off_m = 0, off_s = 0, off_t = 0;
    int64_t total = 0;
};

inline int64_t align256(int64_t x) { return (x + 255) & ~int64_t(255); }

inline Plan make_plan(int64_t N, int64_t V) {
    Plan p;
    p.nb = (N + SCAN_NT - 1) / SCAN_NT;
    const int64_t tiles = (V + BN - 1) / BN;
    int64_t s0 = (V + SPLIT_MIN_COLS - 1) / SPLIT_MIN_COLS;
    if (s0 > MAX_SPLITS) s0 = MAX_SPLITS;
    if (s0 < 1) s0 = 1;
    const int64_t tiles_per_split = (tiles + s0 - 1) / s0;
    p.splits = (tiles + tiles_per_split - 1) / tiles_per_split; /* every split is non-empty */
    p.split_cols = tiles_per_split * BN;

    int64_t o = 0;
    auto take = [&o](int64_t bytes) {
        const int64_t at = o;
        o = align256(o + bytes);
        return at;
    };
    p.off_count = take(sizeof(int));
    p.off_blkcnt = take(sizeof(int) * p.nb);
    p.off_blkoff = take(sizeof(int) * p.nb);
    p.off_idx = take(sizeof(int) * N);
    p.off_zt = take(sizeof(float) * N);
    p.off_lse = take(sizeof(float) * N);
    p.off_g = take(sizeof(float) * N);
    p.off_loss = take(sizeof(double) * N);
    p.off_m = take(sizeof(float) * N * p.splits);
    p.off_s = take(sizeof(float) * N * p.splits);
    p.off_t = take(sizeof(float) * N * p.splits);
    p.total = o;
    return p;
}

/* ---------------------------------------------------------------------------------------------
 * Small device helpers
 * --------------------------------------------------------------------------------------------- */
constexpr unsigned FULL_MASK = 0xffffffffu;

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

/* ---------------------------------------------------------------------------------------------
 * Global -> shared loaders. `rowoff` is the element offset of the row (-1: an invalid row, loads
 * zeros), `col` the first column of the group. `vec` (uniform) means D is a multiple of the vector
 * width (8 for 16-bit types, 4 for float) and the base pointer is 16-byte aligned, so a group is
 * either wholly inside the row or wholly outside it.
 * --------------------------------------------------------------------------------------------- */

/* 8 raw 16-bit elements, packed little-endian into a uint4 (zeros outside the row / matrix). */
__device__ __forceinline__ uint4 load8_bits16(const uint16_t *__restrict__ base, int64_t rowoff, int64_t col,
                                              int64_t D, bool vec) {
    uint4 v = make_uint4(0u, 0u, 0u, 0u);
    if (rowoff >= 0 && col < D) {
        const uint16_t *src = base + rowoff + col;
        if (vec) {
            v = *reinterpret_cast<const uint4 *>(src);
        } else {
            unsigned int e[8];
#pragma unroll
            for (int i = 0; i < 8; ++i) e[i] = (col + i < D) ? static_cast<unsigned int>(src[i]) : 0u;
            v.x = e[0] | (e[1] << 16);
            v.y = e[2] | (e[3] << 16);
            v.z = e[4] | (e[5] << 16);
            v.w = e[6] | (e[7] << 16);
        }
    }
    return v;
}

/* 4 floats. */
__device__ __forceinline__ float4 load4_f32(const float *__restrict__ base, int64_t rowoff, int64_t col, int64_t D,
                                            bool vec) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (rowoff >= 0 && col < D) {
        const float *src = base + rowoff + col;
        if (vec) {
            v = *reinterpret_cast<const float4 *>(src);
        } else {
            v.x = src[0];
            v.y = (col + 1 < D) ? src[1] : 0.f;
            v.z = (col + 2 < D) ? src[2] : 0.f;
            v.w = (col + 3 < D) ? src[3] : 0.f;
        }
    }
    return v;
}

/* 8 elements of any dtype -> 8 floats in shared memory (dst 16-byte aligned). */
template <typename T>
__device__ __forceinline__ void load8_as_float(const T *__restrict__ base, int64_t rowoff, int64_t col, int64_t D,
                                               bool vec, float *dst) {
    if constexpr (std::is_same<T, float>::value) {
        reinterpret_cast<float4 *>(dst)[0] = load4_f32(base, rowoff, col, D, vec);
        reinterpret_cast<float4 *>(dst)[1] = load4_f32(base, rowoff, col + 4, D, vec);
    } else {
        const uint4 v = load8_bits16(reinterpret_cast<const uint16_t *>(base), rowoff, col, D, vec);
        reinterpret_cast<float4 *>(dst)[0] =
            make_float4(bits_to_float<T>(uint16_t(v.x & 0xffffu)), bits_to_float<T>(uint16_t(v.x >> 16)),
                        bits_to_float<T>(uint16_t(v.y & 0xffffu)), bits_to_float<T>(uint16_t(v.y >> 16)));
        reinterpret_cast<float4 *>(dst)[1] =
            make_float4(bits_to_float<T>(uint16_t(v.z & 0xffffu)), bits_to_float<T>(uint16_t(v.z >> 16)),
                        bits_to_float<T>(uint16_t(v.w & 0xffffu)), bits_to_float<T>(uint16_t(v.w >> 16)));
    }
}

/* ---------------------------------------------------------------------------------------------
 * Logits tile: Cs[r][c] = sum_k h[row r][k] * W[v0 + c][k] for r < BM, c < BN (fp32).
 * Invalid rows (s_rowoff[r] < 0) and columns v0 + c >= V come out as 0 (zero-filled operands).
 * Starts with __syncthreads (so callers may have just written s_rowoff, or still be reading Cs or the
 * operand region, before the call) and ends with the tile stored to Cs but WITHOUT a trailing barrier
 * after that store: callers sync before reading Cs.
 * Cs does not alias the operand buffers `in_smem`.
 * --------------------------------------------------------------------------------------------- */
__device__ __forceinline__ void logits_tile(const float *__restrict__ h, const float *__restrict__ W,
                                            const int64_t *s_rowoff, int64_t v0, int64_t D, int64_t V,
                                            bool vec, unsigned char *in_smem, float *Cs) {
    float *As = reinterpret_cast<float *>(in_smem); /* [SIMT_BK][SIMT_ASTR] */
    float *Bs = As + SIMT_BK * SIMT_ASTR;            /* [SIMT_BK][SIMT_BSTR] */
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;

    float acc[4][8];
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;

    /* Register prefetch: the global loads of chunk k0 + BK are issued before the FMAs of chunk k0. */
    const int ar = tid >> 2, ag = tid & 3;      /* A: 64 rows x 4 groups of 4 -> one group per thread */
    int br[2], bg[2];                            /* B: 128 rows x 4 groups -> two groups per thread */
    int64_t boff[2];
#pragma unroll
    for (int q = 0; q < 2; ++q) {
        const int e = tid + q * NT;
        br[q] = e >> 2;
        bg[q] = e & 3;
        boff[q] = (v0 + br[q] < V) ? (v0 + br[q]) * D : int64_t(-1);
    }
    __syncthreads(); /* s_rowoff published; previous users of As/Bs/Cs done */
    const int64_t aoff = s_rowoff[ar];
    float4 fa = load4_f32(h, aoff, 4 * ag, D, vec);
    float4 fb[2];
#pragma unroll
    for (int q = 0; q < 2; ++q) fb[q] = load4_f32(W, boff[q], 4 * bg[q], D, vec);

    for (int64_t k0 = 0; k0 < D; k0 += SIMT_BK) {
        As[(4 * ag + 0) * SIMT_ASTR + ar] = fa.x; /* stored transposed: [k][row] */
        As[(4 * ag + 1) * SIMT_ASTR + ar] = fa.y;
        As[(4 * ag + 2) * SIMT_ASTR + ar] = fa.z;
        As[(4 * ag + 3) * SIMT_ASTR + ar] = fa.w;
#pragma unroll
        for (int q = 0; q < 2; ++q) {
            Bs[(4 * bg[q] + 0) * SIMT_BSTR + br[q]] = fb[q].x;
            Bs[(4 * bg[q] + 1) * SIMT_BSTR + br[q]] = fb[q].y;
            Bs[(4 * bg[q] + 2) * SIMT_BSTR + br[q]] = fb[q].z;
            Bs[(4 * bg[q] + 3) * SIMT_BSTR + br[q]] = fb[q].w;
        }
        __syncthreads();
        const int64_t kn = k0 + SIMT_BK;
        if (kn < D) {
            fa = load4_f32(h, aoff, kn + 4 * ag, D, vec);
#pragma unroll
            for (int q = 0; q < 2; ++q) fb[q] = load4_f32(W, boff[q], kn + 4 * bg[q], D, vec);
        }
#pragma unroll
        for (int k = 0; k < SIMT_BK; ++k) {
            float a[4], b[8];
#pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = As[k * SIMT_ASTR + ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 8; ++j) b[j] = Bs[k * SIMT_BSTR + tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads(); /* before the next chunk overwrites As/Bs */
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) Cs[(ty + 16 * i) * CSTR + tx + 16 * j] = acc[i][j];
}

/* Tensor-core version for bf16 / fp16 (wmma m16n16k16, fp32 accumulate). */
template <typename T>
__device__ __forceinline__ void logits_tile(const T *__restrict__ h, const T *__restrict__ W,
                                            const int64_t *s_rowoff, int64_t v0, int64_t D, int64_t V,
                                            bool vec, unsigned char *in_smem, float *Cs) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
    using namespace nvcuda;
    T *As = reinterpret_cast<T *>(in_smem); /* [BM][TC_STR] row-major, k contiguous */
    T *Bs = As + BM * TC_STR;               /* [BN][TC_STR]: W rows = columns of B (col-major) */
    const uint16_t *h16 = reinterpret_cast<const uint16_t *>(h);
    const uint16_t *W16 = reinterpret_cast<const uint16_t *>(W);
    const int tid = threadIdx.x, warp = tid >> 5, wm = warp >> 2, wn = warp & 3;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);

    /* Register prefetch: the global loads of chunk k0 + BK are issued before the MMAs of chunk k0. */
    const int ar = tid >> 2, ag = tid & 3;      /* A: 64 rows x 4 groups of 8 -> one group per thread */
    int br[2], bg[2];                            /* B: 128 rows x 4 groups -> two groups per thread */
    int64_t boff[2];
#pragma unroll
    for (int q = 0; q < 2; ++q) {
        const int e = tid + q * NT;
        br[q] = e >> 2;
        bg[q] = e & 3;
        boff[q] = (v0 + br[q] < V) ? (v0 + br[q]) * D : int64_t(-1);
    }
    __syncthreads(); /* s_rowoff published; previous users of As/Bs/Cs done */
    const int64_t aoff = s_rowoff[ar];
    uint4 ra = load8_bits16(h16, aoff, 8 * ag, D, vec);
    uint4 rb[2];
#pragma unroll
    for (int q = 0; q < 2; ++q) rb[q] = load8_bits16(W16, boff[q], 8 * bg[q], D, vec);

    for (int64_t k0 = 0; k0 < D; k0 += TC_BK) {
        *reinterpret_cast<uint4 *>(As + ar * TC_STR + 8 * ag) = ra;
#pragma unroll
        for (int q = 0; q < 2; ++q) *reinterpret_cast<uint4 *>(Bs + br[q] * TC_STR + 8 * bg[q]) = rb[q];
        __syncthreads();
        const int64_t kn = k0 + TC_BK;
        if (kn < D) {
            ra = load8_bits16(h16, aoff, kn + 8 * ag, D, vec);
#pragma unroll
            for (int q = 0; q < 2; ++q) rb[q] = load8_bits16(W16, boff[q], kn + 8 * bg[q], D, vec);
        }
#pragma unroll
        for (int kk = 0; kk < TC_BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b[2];
#pragma unroll
            for (int i = 0; i < 2; ++i) wmma::load_matrix_sync(a[i], As + (wm * 32 + i * 16) * TC_STR + kk, TC_STR);
#pragma unroll
            for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(b[j], Bs + (wn * 32 + j * 16) * TC_STR + kk, TC_STR);
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads(); /* before the next chunk overwrites As/Bs */
    }
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j)
            wmma::store_matrix_sync(Cs + (wm * 32 + i * 16) * CSTR + wn * 32 + j * 16, acc[i][j], CSTR,
                                    wmma::mem_row_major);
#else
    __trap(); /* never built: the library targets sm_80+ */
#endif
}

/* ---------------------------------------------------------------------------------------------
 * 1. Compaction
 * --------------------------------------------------------------------------------------------- */
__global__ void __launch_bounds__(SCAN_NT) compact_count_kernel(const float *__restrict__ w, int64_t N,
                                                                int *__restrict__ blkcnt) {
    const int64_t i = int64_t(blockIdx.x) * SCAN_NT + threadIdx.x;
    const int flag = (i < N) && (w[i] != 0.f);
    const int c = __syncthreads_count(flag);
    if (threadIdx.x == 0) blkcnt[blockIdx.x] = c;
}

__global__ void __launch_bounds__(SCAN_NT) compact_scan_kernel(const int *__restrict__ blkcnt, int64_t nb,
                                                               int *__restrict__ blkoff, int *__restrict__ count) {
    int carry = 0;
    for (int64_t base = 0; base < nb; base += SCAN_NT) {
        const int64_t b = base + threadIdx.x;
        const int v = b < nb ? blkcnt[b] : 0;
        int total = 0;
        const int excl = block_exclusive_scan(v, total);
        if (b < nb) blkoff[b] = carry + excl;
        carry += total;
    }
    if (threadIdx.x == 0) *count = carry;
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
 * 2. Forward partials: grid (ceil(N/BM), S)
 * --------------------------------------------------------------------------------------------- */
template <typename T>
__global__ void __launch_bounds__(NT, 2) forward_partials_kernel(
    const T *__restrict__ h, const T *__restrict__ W, const int64_t *__restrict__ y, const int *__restrict__ idx,
    const int *__restrict__ d_count, int64_t N, int64_t D, int64_t V, int64_t split_cols, bool vec,
    float *__restrict__ mpart, float *__restrict__ spart, float *__restrict__ tpart, float *__restrict__ zt) {
    const int64_t count = *d_count;
    const int64_t row0 = int64_t(blockIdx.x) * BM;
    if (row0 >= count) return; /* beyond the device-side row count */
    const int64_t vbeg = int64_t(blockIdx.y) * split_cols;
    const int64_t vend = min(V, vbeg + split_cols); /* vbeg < V by construction of the plan */

    extern __shared__ __align__(128) unsigned char smem[];
    float *Cs = reinterpret_cast<float *>(smem);
    unsigned char *in_smem = smem + CS_BYTES;
    __shared__ int64_t s_rowoff[BM];
    __shared__ int64_t s_y[BM];

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid < BM) {
        const int64_t r = row0 + tid;
        if (r < count) {
            const int64_t i = idx[r];
            s_rowoff[tid] = i * D;
            s_y[tid] = y[i];
        } else {
            s_rowoff[tid] = -1;
            s_y[tid] = -1;
        }
    }
    /* (the first barrier inside logits_tile publishes s_rowoff / s_y) */

    float m[ROWS_PER_WARP], s[ROWS_PER_WARP], t[ROWS_PER_WARP];
#pragma unroll
    for (int i = 0; i < ROWS_PER_WARP; ++i) {
        m[i] = -INFINITY;
        s[i] = 0.f;
        t[i] = 0.f;
    }

    for (int64_t v0 = vbeg; v0 < vend; v0 += BN) {
        logits_tile(h, W, s_rowoff, v0, D, V, vec, in_smem, Cs);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < ROWS_PER_WARP; ++i) {
            const int r = warp * ROWS_PER_WARP + i;
            if (row0 + r >= count) continue; /* warp-uniform */
            float z[4];
            float mx = -INFINITY;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int c = lane + 32 * j;
                z[j] = (v0 + c < vend) ? Cs[r * CSTR + c] : -INFINITY;
                mx = fmaxf(mx, z[j]);
            }
            mx = warp_max(mx); /* finite: every tile has at least one valid column */
            const float mnew = fmaxf(m[i], mx);
            float ps = 0.f, pt = 0.f;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                if (v0 + lane + 32 * j < vend) {
                    const float d = z[j] - mnew;
                    const float e = expf(d);
                    ps += e;
                    pt += e * d;
                }
            }
            ps = warp_sum(ps);
            pt = warp_sum(pt);
            if (s[i] > 0.f) { /* rescale the running sums to the new max */
                const float a = expf(m[i] - mnew);
                t[i] = a * (t[i] + s[i] * (m[i] - mnew)) + pt;
                s[i] = a * s[i] + ps;
            } else {
                t[i] = pt;
                s[i] = ps;
            }
            m[i] = mnew;
            const int64_t yv = s_y[r];
            if (lane == 0 && yv >= v0 && yv < v0 + BN && yv < vend) zt[row0 + r] = Cs[r * CSTR + (yv - v0)];
        }
    }
    if (lane == 0) {
#pragma unroll
        for (int i = 0; i < ROWS_PER_WARP; ++i) {
            const int64_t row = row0 + warp * ROWS_PER_WARP + i;
            if (row < count) {
                const int64_t o = int64_t(blockIdx.y) * N + row;
                mpart[o] = m[i];
                spart[o] = s[i];
                tpart[o] = t[i];
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * 3. Merge of the S partials per compacted row
 * --------------------------------------------------------------------------------------------- */
__global__ void __launch_bounds__(MERGE_NT) merge_kernel(
    const int64_t *__restrict__ y, const float *__restrict__ w, const int *__restrict__ idx,
    const int *__restrict__ d_count, int64_t N, int64_t V, int64_t S, double denom,
    const float *__restrict__ mpart, const float *__restrict__ spart, const float *__restrict__ tpart,
    const float *__restrict__ zt, float *__restrict__ lse_out, float *__restrict__ g_out,
    double *__restrict__ loss_rows, float *__restrict__ logp_out, float *__restrict__ entropy_out) {
    const int64_t count = *d_count;
    const int64_t r = int64_t(blockIdx.x) * MERGE_NT + threadIdx.x;
    if (r >= count) return;
    float M = -INFINITY;
    for (int64_t j = 0; j < S; ++j) M = fmaxf(M, mpart[j * N + r]);
    float ssum = 0.f, tsum = 0.f;
    for (int64_t j = 0; j < S; ++j) {
        const float mj = mpart[j * N + r], sj = spart[j * N + r], tj = tpart[j * N + r];
        const float a = expf(mj - M);
        ssum += a * sj;
        tsum += a * (tj + sj * (mj - M));
    }
    const float logs = logf(ssum);
    const float lse = M + logs;
    const float entropy = logs - tsum / ssum;
    const int64_t i = idx[r];
    const int64_t yi = y[i];
    const float logp = (yi >= 0 && yi < V) ? zt[r] - lse : NAN; /* an invalid target poisons the loss */
    const float wi = w[i];
    lse_out[r] = lse;
    g_out[r] = static_cast<float>(static_cast<double>(wi) / denom);
    loss_rows[r] = static_cast<double>(wi) * (-static_cast<double>(logp)) / denom;
    if (logp_out) logp_out[i] = logp;
    if (entropy_out) entropy_out[i] = entropy;
}

/* ---------------------------------------------------------------------------------------------
 * 4. Deterministic loss reduction (one block, fixed order)
 * --------------------------------------------------------------------------------------------- */
__global__ void __launch_bounds__(REDUCE_NT) loss_reduce_kernel(const double *__restrict__ loss_rows,
                                                                const int *__restrict__ d_count,
                                                                float *__restrict__ loss_out) {
    __shared__ double s_part[REDUCE_NT / 32];
    const int64_t count = *d_count;
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
        if (lane == 0) *loss_out = static_cast<float>(acc);
    }
}

/* ---------------------------------------------------------------------------------------------
 * 5. Backward: grid = ceil(V/BN) vocabulary tiles; each block loops over all compacted row tiles.
 * --------------------------------------------------------------------------------------------- */

/* Per-D-chunk GEMMs on shared memory (G: Cs [BM][CSTR]; Hc [BM][XSTR]; Wc [BN][XSTR]) into the
 * staging buffers Sw [BN][XSTR] (dW chunk) and Sh [BM][XSTR] (dh chunk), which alias Hc/Wc: the
 * functions sync between reading the operands and writing the results. */
template <typename T>
struct ChunkGemm;

template <>
struct ChunkGemm<float> { /* SIMT fp32 */
    static __device__ __forceinline__ void run(const float *Cs, float *reg2, bool do_dw, bool do_dh) {
        const float *Hc = reg2;
        const float *Wc = reg2 + BM * XSTR;
        float *Sw = reg2;
        float *Sh = reg2 + BN * XSTR;
        const int tid = threadIdx.x, tx = tid & 7, ty = tid >> 3; /* ty in [0, 32) */
        float aw[4][4], ah[2][4];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) aw[i][j] = 0.f;
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int j = 0; j < 4; ++j) ah[i][j] = 0.f;
        if (do_dw) { /* Sw[v][d] = sum_r G[r][v] * Hc[r][d], v = ty + 32 i, d = tx + 8 j */
#pragma unroll 4
            for (int r = 0; r < BM; ++r) {
                float g[4], x[4];
#pragma unroll
                for (int i = 0; i < 4; ++i) g[i] = Cs[r * CSTR + ty + 32 * i];
#pragma unroll
                for (int j = 0; j < 4; ++j) x[j] = Hc[r * XSTR + tx + 8 * j];
#pragma unroll
                for (int i = 0; i < 4; ++i)
#pragma unroll
                    for (int j = 0; j < 4; ++j) aw[i][j] = fmaf(g[i], x[j], aw[i][j]);
            }
        }
        if (do_dh) { /* Sh[r][d] = sum_v G[r][v] * Wc[v][d], r = ty + 32 i, d = tx + 8 j */
#pragma unroll 4
            for (int v = 0; v < BN; ++v) {
                float g[2], x[4];
#pragma unroll
                for (int i = 0; i < 2; ++i) g[i] = Cs[(ty + 32 * i) * CSTR + v];
#pragma unroll
                for (int j = 0; j < 4; ++j) x[j] = Wc[v * XSTR + tx + 8 * j];
#pragma unroll
                for (int i = 0; i < 2; ++i)
#pragma unroll
                    for (int j = 0; j < 4; ++j) ah[i][j] = fmaf(g[i], x[j], ah[i][j]);
            }
        }
        __syncthreads(); /* operands consumed; the staging buffers alias them */
        if (do_dw) {
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) Sw[(ty + 32 * i) * XSTR + tx + 8 * j] = aw[i][j];
        }
        if (do_dh) {
#pragma unroll
            for (int i = 0; i < 2; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) Sh[(ty + 32 * i) * XSTR + tx + 8 * j] = ah[i][j];
        }
    }
};

template <typename T>
struct ChunkGemm { /* bf16 / fp16 inputs: TF32 tensor cores (m16n16k8), fp32 accumulation */
    static __device__ __forceinline__ void run(const float *Cs, float *reg2, bool do_dw, bool do_dh) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
        using namespace nvcuda;
        const float *Hc = reg2;
        const float *Wc = reg2 + BM * XSTR;
        float *Sw = reg2;
        float *Sh = reg2 + BN * XSTR;
        const int warp = threadIdx.x >> 5;
        wmma::fragment<wmma::accumulator, 16, 16, 8, float> cw[2], ch;
        wmma::fill_fragment(cw[0], 0.f);
        wmma::fill_fragment(cw[1], 0.f);
        wmma::fill_fragment(ch, 0.f);
        if (do_dw) { /* warp -> dW rows [16 warp, +16) of the tile, all 32 chunk columns; K = BM rows */
#pragma unroll
            for (int k = 0; k < BM; k += 8) {
                wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> a;
                wmma::load_matrix_sync(a, Cs + k * CSTR + warp * 16, CSTR); /* (v, r) = G[r][v] */
#pragma unroll
                for (int e = 0; e < a.num_elements; ++e) a.x[e] = wmma::__float_to_tf32(a.x[e]);
#pragma unroll
                for (int j = 0; j < 2; ++j) {
                    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b;
                    wmma::load_matrix_sync(b, Hc + k * XSTR + j * 16, XSTR);
#pragma unroll
                    for (int e = 0; e < b.num_elements; ++e) b.x[e] = wmma::__float_to_tf32(b.x[e]);
                    wmma::mma_sync(cw[j], a, b, cw[j]);
                }
            }
        }
        if (do_dh) { /* warp -> dh rows [16 (warp/2), +16), chunk columns [16 (warp%2), +16); K = BN */
            const int rm = (warp >> 1) * 16, cn = (warp & 1) * 16;
#pragma unroll 4
            for (int k = 0; k < BN; k += 8) {
                wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b;
                wmma::load_matrix_sync(a, Cs + rm * CSTR + k, CSTR);
                wmma::load_matrix_sync(b, Wc + k * XSTR + cn, XSTR);
#pragma unroll
                for (int e = 0; e < a.num_elements; ++e) a.x[e] = wmma::__float_to_tf32(a.x[e]);
#pragma unroll
                for (int e = 0; e < b.num_elements; ++e) b.x[e] = wmma::__float_to_tf32(b.x[e]);
                wmma::mma_sync(ch, a, b, ch);
            }
        }
        __syncthreads(); /* operands consumed; the staging buffers alias them */
        if (do_dw) {
#pragma unroll
            for (int j = 0; j < 2; ++j)
                wmma::store_matrix_sync(Sw + warp * 16 * XSTR + j * 16, cw[j], XSTR, wmma::mem_row_major);
        }
        if (do_dh) {
            wmma::store_matrix_sync(Sh + (warp >> 1) * 16 * XSTR + (warp & 1) * 16, ch, XSTR,
                                    wmma::mem_row_major);
        }
#else
        (void)Cs;
        (void)reg2;
        (void)do_dw;
        (void)do_dh;
        __trap();
#endif
    }
};

template <typename T>
__global__ void __launch_bounds__(NT, 2) backward_kernel(
    const T *__restrict__ h, const T *__restrict__ W, const int64_t *__restrict__ y, const int *__restrict__ idx,
    const int *__restrict__ d_count, const float *__restrict__ lse, const float *__restrict__ gcoef, int64_t D,
    int64_t V, bool vec, float *__restrict__ dh, float *__restrict__ dW) {
    const int64_t count = *d_count;
    const int64_t n_row_tiles = (count + BM - 1) / BM;
    if (n_row_tiles == 0) return;
    const int64_t v0 = int64_t(blockIdx.x) * BN;
    const bool do_dw = dW != nullptr, do_dh = dh != nullptr;

    extern __shared__ __align__(128) unsigned char smem[];
    float *Cs = reinterpret_cast<float *>(smem);   /* logits, then G, [BM][CSTR] */
    unsigned char *reg2 = smem + CS_BYTES;         /* logits operands | H/W chunks | staging */
    float *Hc = reinterpret_cast<float *>(reg2);   /* [BM][XSTR] */
    float *Wc = Hc + BM * XSTR;                    /* [BN][XSTR] */
    const float *Sw = Hc;                          /* [BN][XSTR] (after ChunkGemm) */
    const float *Sh = Hc + BN * XSTR;              /* [BM][XSTR] */
    __shared__ int64_t s_rowoff[BM];
    __shared__ int64_t s_y[BM];
    __shared__ float s_lse[BM];
    __shared__ float s_g[BM];

    const int tid = threadIdx.x;
    for (int64_t it = 0; it < n_row_tiles; ++it) {
        const int64_t row0 = ((int64_t(blockIdx.x) + it) % n_row_tiles) * BM;
        __syncthreads(); /* previous row tile completely done with the shared row data */
        if (tid < BM) {
            const int64_t r = row0 + tid;
            if (r < count) {
                const int64_t i = idx[r];
                s_rowoff[tid] = i * D;
                s_y[tid] = y[i];
                s_lse[tid] = lse[r];
                s_g[tid] = gcoef[r];
            } else {
                s_rowoff[tid] = -1;
                s_y[tid] = -1;
                s_lse[tid] = 0.f;
                s_g[tid] = 0.f;
            }
        }
        logits_tile(h, W, s_rowoff, v0, D, V, vec, reg2, Cs); /* begins with a barrier */
        __syncthreads();
        /* G = g * (softmax - onehot), zero outside valid rows / columns */
        for (int e = tid; e < BM * BN; e += NT) {
            const int r = e / BN, c = e % BN;
            const int64_t v = v0 + c;
            float gv = 0.f;
            if (s_rowoff[r] >= 0 && v < V) {
                const float p = expf(Cs[r * CSTR + c] - s_lse[r]);
                gv = s_g[r] * (p - (v == s_y[r] ? 1.f : 0.f));
            }
            Cs[r * CSTR + c] = gv;
        }
        for (int64_t d0 = 0; d0 < D; d0 += BD) {
            __syncthreads(); /* G complete / previous chunk's staging consumed */
            { /* Hc: 64 rows x 4 groups of 8 -> one per thread */
                const int r = tid >> 2, g = tid & 3;
                load8_as_float(h, s_rowoff[r], d0 + 8 * g, D, vec, Hc + r * XSTR + 8 * g);
            }
#pragma unroll
            for (int q = 0; q < 2; ++q) { /* Wc: 128 rows x 4 groups -> two per thread */
                const int e = tid + q * NT, r = e >> 2, g = e & 3;
                const int64_t v = v0 + r;
                load8_as_float(W, v < V ? v * D : int64_t(-1), d0 + 8 * g, D, vec, Wc + r * XSTR + 8 * g);
            }
            __syncthreads();
            ChunkGemm<T>::run(Cs, Hc, do_dw, do_dh); /* contains a barrier; results in Sw / Sh */
            __syncthreads();
            if (do_dw) { /* this block owns dW rows [v0, v0 + BN): plain read-modify-write */
                for (int e = tid; e < BN * BD; e += NT) {
                    const int vr = e / BD, d = e % BD;
                    const int64_t v = v0 + vr, gd = d0 + d;
                    if (v < V && gd < D) dW[v * D + gd] += Sw[vr * XSTR + d];
                }
            }
            if (do_dh) { /* dh rows meet the contributions of every vocabulary tile: fp32 atomics */
                for (int e = tid; e < BM * BD; e += NT) {
                    const int r = e / BD, d = e % BD;
                    const int64_t gd = d0 + d;
                    if (s_rowoff[r] >= 0 && gd < D) atomicAdd(dh + s_rowoff[r] + gd, Sh[r * XSTR + d]);
                }
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Host side
 * --------------------------------------------------------------------------------------------- */
inline bool aligned16(const void *p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

template <typename T>
int run(const T *h, const T *W, const int64_t *y, const float *w, int64_t N, int64_t D, int64_t V, double denom,
        float *loss_out, float *dh, float *dW, float *logp_out, float *entropy_out, const Plan &p,
        unsigned char *ws, cudaStream_t st) {
    int *count = reinterpret_cast<int *>(ws + p.off_count);
    int *blkcnt = reinterpret_cast<int *>(ws + p.off_blkcnt);
    int *blkoff = reinterpret_cast<int *>(ws + p.off_blkoff);
    int *idx = reinterpret_cast<int *>(ws + p.off_idx);
    float *zt = reinterpret_cast<float *>(ws + p.off_zt);
    float *lse = reinterpret_cast<float *>(ws + p.off_lse);
    float *gco = reinterpret_cast<float *>(ws + p.off_g);
    double *loss_rows = reinterpret_cast<double *>(ws + p.off_loss);
    float *mpart = reinterpret_cast<float *>(ws + p.off_m);
    float *spart = reinterpret_cast<float *>(ws + p.off_s);
    float *tpart = reinterpret_cast<float *>(ws + p.off_t);

    constexpr int vec_width = std::is_same<T, float>::value ? 4 : 8;
    const bool vec = (D % vec_width == 0) && aligned16(h) && aligned16(W);

    if (dh) LPCUDA_CHECK(cudaMemsetAsync(dh, 0, sizeof(float) * size_t(N) * size_t(D), st), "cudaMemsetAsync(dh)");

    const unsigned nb = static_cast<unsigned>(p.nb);
    compact_count_kernel<<<nb, SCAN_NT, 0, st>>>(w, N, blkcnt);
    LPCUDA_CHECK_LAUNCH("compact_count_kernel");
    compact_scan_kernel<<<1, SCAN_NT, 0, st>>>(blkcnt, p.nb, blkoff, count);
    LPCUDA_CHECK_LAUNCH("compact_scan_kernel");
    compact_scatter_kernel<<<nb, SCAN_NT, 0, st>>>(w, N, blkoff, idx, logp_out, entropy_out);
    LPCUDA_CHECK_LAUNCH("compact_scatter_kernel");

    {
        constexpr size_t smem = fwd_smem_bytes<T>();
        auto kern = forward_partials_kernel<T>;
        LPCUDA_CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
                     "cudaFuncSetAttribute(forward_partials_kernel)");
        const dim3 grid(static_cast<unsigned>((N + BM - 1) / BM), static_cast<unsigned>(p.splits));
        kern<<<grid, NT, smem, st>>>(h, W, y, idx, count, N, D, V, p.split_cols, vec, mpart, spart, tpart, zt);
        LPCUDA_CHECK_LAUNCH("forward_partials_kernel");
    }

    merge_kernel<<<static_cast<unsigned>((N + MERGE_NT - 1) / MERGE_NT), MERGE_NT, 0, st>>>(
        y, w, idx, count, N, V, p.splits, denom, mpart, spart, tpart, zt, lse, gco, loss_rows, logp_out, entropy_out);
    LPCUDA_CHECK_LAUNCH("merge_kernel");

    loss_reduce_kernel<<<1, REDUCE_NT, 0, st>>>(loss_rows, count, loss_out);
    LPCUDA_CHECK_LAUNCH("loss_reduce_kernel");

    if (dh || dW) {
        constexpr size_t smem = bwd_smem_bytes<T>();
        auto kern = backward_kernel<T>;
        LPCUDA_CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
                     "cudaFuncSetAttribute(backward_kernel)");
        const unsigned grid = static_cast<unsigned>((V + BN - 1) / BN);
        kern<<<grid, NT, smem, st>>>(h, W, y, idx, count, lse, gco, D, V, vec, dh, dW);
        LPCUDA_CHECK_LAUNCH("backward_kernel");
    }
    return LP_OK;
}

constexpr int64_t kMaxDim = 0x7fffffff; /* int32 row indices and grid sizes */

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

LPCUDA_EXPORT int64_t lpcuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype) {
    using namespace lpcuda::mlce;
    lpcuda::clear_error();
    if (check_sizes(N, D, V, dtype) != LP_OK) return -1;
    return make_plan(N, V).total;
}

LPCUDA_EXPORT int lpcuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                                          int64_t N, int64_t D, int64_t V, double denom, float *loss_out, float *dh,
                                          float *dW, float *logp_out, float *entropy_out, void *workspace,
                                          int64_t workspace_bytes, void *stream) {
    using namespace lpcuda;
    using namespace lpcuda::mlce;
    clear_error();
    int st = check_sizes(N, D, V, dtype);
    if (st != LP_OK) return st;
    if (!loss_out) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: loss_out is NULL");
    if (!std::isfinite(denom) || denom == 0.0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: denom must be finite and nonzero (got %g)",
                    denom);
    cudaStream_t stm = static_cast<cudaStream_t>(stream);
    if (N == 0) { /* nothing selected: loss 0, dh (empty), dW unchanged */
        LPCUDA_CHECK(cudaMemsetAsync(loss_out, 0, sizeof(float), stm), "cudaMemsetAsync(loss_out)");
        return LP_OK;
    }
    if (!h || !W || !y || !w)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: h, W, y and w must be non-NULL");
    const Plan p = make_plan(N, V);
    if (!workspace || workspace_bytes < p.total)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "lpcuda_masked_linear_ce: workspace too small (%lld bytes given, %lld needed for N=%lld V=%lld)",
                    static_cast<long long>(workspace ? workspace_bytes : 0), static_cast<long long>(p.total),
                    static_cast<long long>(N), static_cast<long long>(V));
    if ((reinterpret_cast<uintptr_t>(workspace) & 15u) != 0)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: workspace must be 16-byte aligned");

    if (dtype != LP_F32) { /* tensor-core bf16 and TF32 need sm_80 */
        int dev = 0, major = 0;
        LPCUDA_CHECK(cudaGetDevice(&dev), "cudaGetDevice");
        LPCUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev),
                     "cudaDeviceGetAttribute(compute capability)");
        if (major < 8)
            return fail(LP_ERR_UNAVAILABLE,
                        "lpcuda_masked_linear_ce: %s needs a device of compute capability >= 8.0 (device %d is %d.x)",
                        dtype_name(dtype), dev, major);
    }

    unsigned char *ws = static_cast<unsigned char *>(workspace);
    switch (dtype) {
        case LP_F32:
            return run(static_cast<const float *>(h), static_cast<const float *>(W), y, w, N, D, V, denom, loss_out,
                       dh, dW, logp_out, entropy_out, p, ws, stm);
        case LP_BF16:
            return run(static_cast<const __nv_bfloat16 *>(h), static_cast<const __nv_bfloat16 *>(W), y, w, N, D, V,
                       denom, loss_out, dh, dW, logp_out, entropy_out, p, ws, stm);
        case LP_F16:
            return run(static_cast<const __half *>(h), static_cast<const __half *>(W), y, w, N, D, V, denom,
                       loss_out, dh, dW, logp_out, entropy_out, p, ws, stm);
        default:
            return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_masked_linear_ce: unknown dtype %d", dtype);
    }
}

}  // extern "C"
