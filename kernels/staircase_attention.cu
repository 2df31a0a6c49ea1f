/*
 * Staircase attention, CUDA backend (contract in cpp/include/linchpin.h, lp_cuda_staircase_attention;
 * CPU twin cpp/src/engine/staircase_attention.cpp; ARCHITECTURE.md decision 6).
 *
 * One trajectory's shared KV [T, Hkv, d] serves n branches; query row r of branch i attends to shared
 * positions [0, b_i) and to its branch's suffix rows off[i] .. r. Only the suffix rows listed in
 * query_rows are computed (all of them when it is NULL): a decode step asks for one row per branch, so
 * its cost is linear in the suffix length, not quadratic. Below, "row" means a query row (Q of them),
 * indexing q, out and the workspace; its suffix row r = query_rows[row] says what it attends to.
 * The shared part is the "staircase":
 * every branch reads a prefix of the same KV, so it is computed in one pass over that KV for all
 * branches at once (FlashInfer cascade / Hydragen), and merged with each row's suffix attention by
 * log-sum-exp.
 *
 * Pipeline (all on the caller's stream; no host synchronisation, no allocation):
 *   1. row_info      one thread per query row: its suffix row (query_rows, clamped to [0, S)), its
 *                    branch (binary search in suffix_offsets), the branch point clamped to [0, T] and
 *                    the first suffix row of its branch.
 *   2. shared_part   grid (KV splits, KV heads, query-tile groups), 256 threads. A block owns a range
 *                    of split_len shared positions of one KV head and walks it in tiles of BT = 32
 *                    positions held in shared memory; every query tile of BP = 32 (row, query head)
 *                    pairs whose rows reach the range (b > range start) is computed against those
 *                    tiles with an online softmax, and the tile loop stops at the largest b of the
 *                    query tile (the staircase: positions no row of the tile can see are never
 *                    loaded). The (row, head) pairs of a KV head are its GQA group's query heads of
 *                    every row, flattened as pair = row * group + head-in-group, so one K/V tile in
 *                    shared memory serves all query heads that share it. Partials (max m, sum l,
 *                    acc[d]) per (split, row, head) go to the workspace. A block handles query tiles
 *                    blockIdx.z, blockIdx.z + gridDim.z, ... so its KV range is re-read per query
 *                    tile mostly from L2, never once per branch from HBM.
 *   3. suffix_merge  one warp per (row, query head): online softmax over the row's own causal suffix
 *                    (32 positions per step, one per lane), then the log-sum-exp merge with the
 *                    shared partials of every split that starts below the row's branch point, and the
 *                    normalised output (fp32). The brief's separate suffix and merge kernels are fused
 *                    here: the merge needs the suffix state, which then never goes through memory.
 *
 * Numerics: fp32 SIMT arithmetic for every dtype (16-bit inputs are widened on load), expf, the same
 * online-softmax rule as the CPU twin; results differ from the CPU twin only by fp32 summation order.
 *
 * Deviations from the requested design, with reasons:
 *   - No tensor cores (wmma) yet: correctness first, and this session had no GPU to validate an MMA
 *     path on. The score and P·V products are fp32 FMAs from shared memory, so bf16 runs at SIMT fp32
 *     rate; the staircase saving (reading the shared KV once instead of once per branch) is there,
 *     the MMA speed-up is not.
 *   - Index arrays are device memory the host cannot read without a sync: S is passed by the caller,
 *     and the offsets are not validated on the device (branch points are clamped, rows are always in
 *     bounds), as documented in linchpin.h.
 *   - d <= 256 (the register accumulators of a (row, head) pair are sized at compile time).
 *
 * Workspace (a pure function of T, Q, H, Hkv, d): row_b, row_start, row_r (8 B per query row), and per
 * (split, query row, query head) m, l (4 B each) and acc (4 d B). splits <= 32, so at most
 * 32 (2 + d) 4 Q H bytes.
 */
#include "common.cuh"

#include <cmath>

namespace lpcuda {
namespace stair {

constexpr int NT = 256;            /* threads per shared_part block: 32 pairs x 8 threads */
constexpr int BP = 32;             /* (row, head) pairs per query tile (= warp size: one warp reduces b) */
constexpr int BT = 32;             /* shared positions per KV tile */
constexpr int TPP = NT / BP;       /* threads per pair (8) */
constexpr int SPT = BT / TPP;      /* scores per thread per tile (4) */
constexpr int MAX_D = 256;
constexpr int DJ = MAX_D / TPP;    /* accumulator registers per thread in shared_part (32) */
constexpr int64_t SPLIT_MIN = 256; /* shared positions per split, at least (fewer splits, less workspace) */
constexpr int64_t MAX_SPLITS = 32;
constexpr int64_t TARGET_BLOCKS = 1024;
constexpr int ROW_NT = 256;
constexpr int SUF_WARPS = 8;       /* warps (= (row, head) pairs) per suffix_merge block */
constexpr int SUF_DJ = MAX_D / 32; /* accumulator registers per lane in suffix_merge (8) */

static_assert(BP == 32 && TPP == 8 && SPT * TPP == BT, "thread mapping of shared_part");

struct Plan {
    int64_t splits = 0, split_len = 0, qtiles = 0, qgroups = 1;
    int64_t off_row_b = 0, off_row_start = 0, off_row_r = 0, off_m = 0, off_l = 0, off_acc = 0, total = 0;
};

inline int64_t align256(int64_t x) { return (x + 255) & ~int64_t(255); }

inline Plan make_plan(int64_t T, int64_t Q, int64_t H, int64_t Hkv, int64_t d) {
    Plan p;
    const int64_t group = H / Hkv;
    p.qtiles = (Q * group + BP - 1) / BP;
    if (T > 0) {
        int64_t s0 = (T + SPLIT_MIN - 1) / SPLIT_MIN;
        if (s0 > MAX_SPLITS) s0 = MAX_SPLITS;
        const int64_t tiles = (T + BT - 1) / BT;
        const int64_t tiles_per_split = (tiles + s0 - 1) / s0;
        p.split_len = tiles_per_split * BT;
        p.splits = (T + p.split_len - 1) / p.split_len; /* every split is non-empty */
        const int64_t per_layer = p.splits * Hkv;
        p.qgroups = (TARGET_BLOCKS + per_layer - 1) / per_layer;
        if (p.qgroups > p.qtiles) p.qgroups = p.qtiles;
        if (p.qgroups < 1) p.qgroups = 1;
    }
    int64_t o = 0;
    auto take = [&o](int64_t bytes) {
        const int64_t at = o;
        o = align256(o + bytes);
        return at;
    };
    const int64_t partials = p.splits * Q * H;
    p.off_row_b = take(int64_t(sizeof(int64_t)) * Q);
    p.off_row_start = take(int64_t(sizeof(int64_t)) * Q);
    p.off_row_r = take(int64_t(sizeof(int64_t)) * Q);
    p.off_m = take(int64_t(sizeof(float)) * partials);
    p.off_l = take(int64_t(sizeof(float)) * partials);
    p.off_acc = take(int64_t(sizeof(float)) * partials * d);
    p.total = o;
    return p;
}

inline size_t shared_smem_bytes(int64_t d) {
    return sizeof(float) * size_t(BP * (d + 1) + BT * (d + 1) + BT * d + BP * (BT + 1));
}

/* ---------------------------------------------------------------------------------------------
 * 1. Row information
 * --------------------------------------------------------------------------------------------- */
__global__ void row_info_kernel(const int64_t *__restrict__ branch_points, const int64_t *__restrict__ offsets,
                                int64_t n, int64_t S, int64_t T, const int64_t *__restrict__ query_rows, int64_t Q,
                                int64_t *__restrict__ row_b, int64_t *__restrict__ row_start,
                                int64_t *__restrict__ row_r) {
    const int64_t i = int64_t(blockIdx.x) * ROW_NT + threadIdx.x;
    if (i >= Q) return;
    int64_t r = query_rows != nullptr ? query_rows[i] : i;
    r = r < 0 ? 0 : (r >= S ? S - 1 : r);
    int64_t lo = 0, hi = n - 1; /* last branch i with offsets[i] <= r */
    while (lo < hi) {
        const int64_t mid = (lo + hi + 1) / 2;
        if (offsets[mid] <= r) lo = mid;
        else hi = mid - 1;
    }
    int64_t b = branch_points[lo];
    b = b < 0 ? 0 : (b > T ? T : b);
    int64_t start = offsets[lo];
    start = start < 0 ? 0 : (start > r ? r : start);
    row_b[i] = b;
    row_start[i] = start;
    row_r[i] = r;
}

/* ---------------------------------------------------------------------------------------------
 * 2. Shared part: one pass over the shared KV for all branches
 * --------------------------------------------------------------------------------------------- */
template <typename T>
__global__ void __launch_bounds__(NT) shared_part_kernel(
    const T *__restrict__ q, const T *__restrict__ ks, const T *__restrict__ vs, int64_t Tlen,
    const int64_t *__restrict__ row_b, int64_t Q, int64_t H, int64_t Hkv, int d, float scale, int64_t split_len,
    int64_t qtiles, float *__restrict__ m_ws, float *__restrict__ l_ws, float *__restrict__ acc_ws) {
    extern __shared__ float smem[];
    const int dq = d + 1;                      /* padded row stride of Qs and Ks (bank conflicts) */
    float *Qs = smem;                          /* [BP][d + 1] */
    float *Ks = Qs + BP * dq;                  /* [BT][d + 1] */
    float *Vs = Ks + BT * dq;                  /* [BT][d] */
    float *Ps = Vs + BT * d;                   /* [BP][BT + 1] */
    __shared__ int64_t s_b[BP];
    __shared__ int64_t s_maxb;

    const int64_t group = H / Hkv;
    const int64_t g = blockIdx.y;
    const int64_t split = blockIdx.x;
    const int64_t t_lo = split * split_len;
    const int64_t t_hi = t_lo + split_len < Tlen ? t_lo + split_len : Tlen;
    const int64_t kv_stride = Hkv * d;
    const int64_t n_pairs = Q * group;
    const int64_t SH = Q * H;
    const int tid = threadIdx.x, pi = tid / TPP, sub = tid % TPP;

    for (int64_t qt = blockIdx.z; qt < qtiles; qt += gridDim.z) {
        const int64_t p0 = qt * BP;
        __syncthreads(); /* the previous query tile is completely done with Qs / s_b */
        if (tid < BP) {  /* warp 0: branch points of the tile's pairs and their maximum */
            const int64_t P = p0 + tid;
            int64_t b = P < n_pairs ? row_b[P / group] : 0;
            s_b[tid] = b;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) {
                const int64_t other = __shfl_xor_sync(0xffffffffu, b, o);
                b = other > b ? other : b;
            }
            if (tid == 0) s_maxb = b;
        }
        const int64_t kv_end_all = t_hi; /* read s_maxb only after the barrier below */
        for (int e = tid; e < BP * d; e += NT) {
            const int i = e / d, c = e % d;
            const int64_t P = p0 + i;
            float x = 0.f;
            if (P < n_pairs) {
                const int64_t r = P / group, hh = P % group;
                x = load_float(q + (r * H + g * group + hh) * d + c);
            }
            Qs[i * dq + c] = x;
        }
        __syncthreads();
        const int64_t kv_end = s_maxb < kv_end_all ? s_maxb : kv_end_all;
        if (kv_end <= t_lo) continue; /* no row of this tile reaches the range (uniform: smem value) */

        const int64_t my_b = s_b[pi] < t_hi ? s_b[pi] : t_hi; /* this pair sees [t_lo, my_b) here */
        float m = -INFINITY, l = 0.f;
        float acc[DJ];
#pragma unroll
        for (int j = 0; j < DJ; ++j) acc[j] = 0.f;

        for (int64_t t0 = t_lo; t0 < kv_end; t0 += BT) {
            __syncthreads(); /* Ks / Vs / Ps of the previous tile consumed */
            for (int e = tid; e < BT * d; e += NT) {
                const int k = e / d, c = e % d;
                const int64_t t = t0 + k;
                float kx = 0.f, vx = 0.f;
                if (t < kv_end) {
                    const int64_t at = t * kv_stride + g * d + c;
                    kx = load_float(ks + at);
                    vx = load_float(vs + at);
                }
                Ks[k * dq + c] = kx;
                Vs[k * d + c] = vx;
            }
            __syncthreads();
            float s[SPT];
            float tmax = -INFINITY;
#pragma unroll
            for (int i = 0; i < SPT; ++i) {
                const int k = sub + TPP * i;
                const float *qr = Qs + pi * dq, *kr = Ks + k * dq;
                float dot = 0.f;
                for (int c = 0; c < d; ++c) dot = fmaf(qr[c], kr[c], dot);
                s[i] = (t0 + k < my_b) ? scale * dot : -INFINITY;
                tmax = fmaxf(tmax, s[i]);
            }
#pragma unroll
            for (int o = TPP / 2; o > 0; o >>= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
            const float m_new = fmaxf(m, tmax);
            /* m_new == -inf: nothing of this tile is visible to the pair; p = 0 everywhere below. */
            const float rescale = (m == -INFINITY || m_new == -INFINITY) ? (m_new == -INFINITY ? 1.f : 0.f)
                                                                         : expf(m - m_new);
            float psum = 0.f;
#pragma unroll
            for (int i = 0; i < SPT; ++i) {
                const float p = s[i] == -INFINITY ? 0.f : expf(s[i] - m_new);
                psum += p;
                Ps[pi * (BT + 1) + sub + TPP * i] = p;
            }
#pragma unroll
            for (int o = TPP / 2; o > 0; o >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o);
            l = l * rescale + psum;
            m = m_new;
            __syncwarp(); /* Ps of this pair is written and read by the same 8 lanes */
#pragma unroll
            for (int j = 0; j < DJ; ++j) acc[j] *= rescale;
            for (int k = 0; k < BT; ++k) {
                const float pk = Ps[pi * (BT + 1) + k];
                const float *vr = Vs + k * d;
#pragma unroll
                for (int j = 0; j < DJ; ++j) {
                    const int c = sub + TPP * j;
                    if (c < d) acc[j] = fmaf(pk, vr[c], acc[j]);
                }
            }
        }
        /* Pairs with b > t_lo saw at least one position here: write their partials (the merge reads
         * exactly the splits that start below b). */
        const int64_t P = p0 + pi;
        if (P < n_pairs && s_b[pi] > t_lo) {
            const int64_t r = P / group, hh = P % group;
            const int64_t w = split * SH + r * H + g * group + hh;
            if (sub == 0) {
                m_ws[w] = m;
                l_ws[w] = l;
            }
#pragma unroll
            for (int j = 0; j < DJ; ++j) {
                const int c = sub + TPP * j;
                if (c < d) acc_ws[w * d + c] = acc[j];
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * 3. Suffix attention per (row, head) + log-sum-exp merge with the shared partials
 * --------------------------------------------------------------------------------------------- */
template <typename T>
__global__ void __launch_bounds__(SUF_WARPS * 32) suffix_merge_kernel(
    const T *__restrict__ q, const T *__restrict__ kx, const T *__restrict__ vx, const int64_t *__restrict__ row_b,
    const int64_t *__restrict__ row_start, const int64_t *__restrict__ row_r, int64_t Q, int64_t H, int64_t Hkv, int d,
    float scale, int64_t splits,
    int64_t split_len, const float *__restrict__ m_ws, const float *__restrict__ l_ws,
    const float *__restrict__ acc_ws, float *__restrict__ out) {
    __shared__ float qs[SUF_WARPS][MAX_D];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t pair = int64_t(blockIdx.x) * SUF_WARPS + warp;
    if (pair >= Q * H) return; /* whole warps exit; no block barrier below */
    const int64_t i = pair / H, h = pair % H, g = h / (H / Hkv);
    const int64_t r = row_r[i]; /* the suffix row query row i stands for */
    const int64_t kv_stride = Hkv * d;
    float *qv = qs[warp];
    for (int c = lane; c < d; c += 32) qv[c] = load_float(q + (i * H + h) * d + c);
    __syncwarp();

    /* suffix rows start .. r (causal within the branch) */
    const int64_t start = row_start[i];
    float m = -INFINITY, l = 0.f;
    float acc[SUF_DJ];
#pragma unroll
    for (int j = 0; j < SUF_DJ; ++j) acc[j] = 0.f;
    for (int64_t j0 = start; j0 <= r; j0 += 32) {
        const int64_t jr = j0 + lane;
        float s = -INFINITY;
        if (jr <= r) {
            const T *kr = kx + jr * kv_stride + g * d;
            float dot = 0.f;
            for (int c = 0; c < d; ++c) dot = fmaf(qv[c], load_float(kr + c), dot);
            s = scale * dot;
        }
        float tmax = s;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o));
        const float m_new = fmaxf(m, tmax); /* lane 0's row j0 <= r is always visible */
        const float rescale = m == -INFINITY ? 0.f : expf(m - m_new);
        const float p = jr <= r ? expf(s - m_new) : 0.f;
        float psum = p;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o);
        l = l * rescale + psum;
        m = m_new;
#pragma unroll
        for (int j = 0; j < SUF_DJ; ++j) acc[j] *= rescale;
        const int64_t last = r - j0 < 31 ? r - j0 : 31;
        for (int src = 0; src <= last; ++src) {
            const float pk = __shfl_sync(0xffffffffu, p, src);
            const T *vr = vx + (j0 + src) * kv_stride + g * d;
#pragma unroll
            for (int j = 0; j < SUF_DJ; ++j) {
                const int c = lane + 32 * j;
                if (c < d) acc[j] = fmaf(pk, load_float(vr + c), acc[j]);
            }
        }
    }

    /* shared partials of the splits below the branch point, folded into one prefix state */
    const int64_t b = row_b[i];
    float pm = -INFINITY, pl = 0.f;
    float pacc[SUF_DJ];
#pragma unroll
    for (int j = 0; j < SUF_DJ; ++j) pacc[j] = 0.f;
    for (int64_t sp = 0; sp < splits && sp * split_len < b; ++sp) {
        const int64_t w = sp * Q * H + i * H + h;
        const float ms = m_ws[w], ls = l_ws[w];
        const float m_new = fmaxf(pm, ms);
        const float fa = pm == -INFINITY ? 0.f : expf(pm - m_new);
        const float fb = expf(ms - m_new);
        pl = pl * fa + ls * fb;
#pragma unroll
        for (int j = 0; j < SUF_DJ; ++j) {
            const int c = lane + 32 * j;
            if (c < d) pacc[j] = pacc[j] * fa + acc_ws[w * d + c] * fb;
        }
        pm = m_new;
    }
    /* the CPU twin's merge of the prefix and suffix states */
    const float mm = fmaxf(pm, m);
    const float wa = pl > 0.f ? expf(pm - mm) : 0.f, wb = l > 0.f ? expf(m - mm) : 0.f;
    const float denom = pl * wa + l * wb;
#pragma unroll
    for (int j = 0; j < SUF_DJ; ++j) {
        const int c = lane + 32 * j;
        if (c < d) out[(i * H + h) * d + c] = denom > 0.f ? (pacc[j] * wa + acc[j] * wb) / denom : 0.f;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Host side
 * --------------------------------------------------------------------------------------------- */
constexpr int64_t kMaxDim = 0x7fffffff;

inline int check_sizes(const char *who, int64_t T, int64_t S, int64_t H, int64_t Hkv, int64_t d, int dtype) {
    if (dtype_size(dtype) == 0) return fail(LP_ERR_INVALID_ARGUMENT, "%s: unknown dtype %d", who, dtype);
    if (T < 0 || S < 0 || H < 1 || Hkv < 1 || d < 1 || H % Hkv != 0)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "%s: need T >= 0, S >= 0, H a multiple of Hkv >= 1, d >= 1 (T=%lld S=%lld H=%lld Hkv=%lld d=%lld)",
                    who, (long long)T, (long long)S, (long long)H, (long long)Hkv, (long long)d);
    if (d > MAX_D) return fail(LP_ERR_INVALID_ARGUMENT, "%s: head dimension d=%lld > %d", who, (long long)d, MAX_D);
    if (Hkv > 65535) return fail(LP_ERR_INVALID_ARGUMENT, "%s: Hkv=%lld > 65535", who, (long long)Hkv);
    if (T >= kMaxDim || S >= kMaxDim || S * H >= kMaxDim)
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: T, S and S*H must be < 2^31 (T=%lld S=%lld H=%lld)", who,
                    (long long)T, (long long)S, (long long)H);
    return LP_OK;
}

template <typename T>
int run(const T *q, const T *ks, const T *vs, int64_t Tlen, const T *kx, const T *vx, const int64_t *bp,
        const int64_t *off, int64_t n, int64_t S, const int64_t *query_rows, int64_t Q, int64_t H, int64_t Hkv,
        int64_t d, float scale, float *out, const Plan &p, unsigned char *ws, cudaStream_t st) {
    int64_t *row_b = reinterpret_cast<int64_t *>(ws + p.off_row_b);
    int64_t *row_start = reinterpret_cast<int64_t *>(ws + p.off_row_start);
    int64_t *row_r = reinterpret_cast<int64_t *>(ws + p.off_row_r);
    float *m_ws = reinterpret_cast<float *>(ws + p.off_m);
    float *l_ws = reinterpret_cast<float *>(ws + p.off_l);
    float *acc_ws = reinterpret_cast<float *>(ws + p.off_acc);

    row_info_kernel<<<static_cast<unsigned>((Q + ROW_NT - 1) / ROW_NT), ROW_NT, 0, st>>>(bp, off, n, S, Tlen, query_rows,
                                                                                        Q, row_b, row_start, row_r);
    LPCUDA_CHECK_LAUNCH("row_info_kernel");
    if (p.splits > 0 && p.qtiles > 0) {
        const size_t smem = shared_smem_bytes(d);
        auto kern = shared_part_kernel<T>;
        LPCUDA_CHECK(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
                     "cudaFuncSetAttribute(shared_part_kernel)");
        const dim3 grid(static_cast<unsigned>(p.splits), static_cast<unsigned>(Hkv), static_cast<unsigned>(p.qgroups));
        kern<<<grid, NT, smem, st>>>(q, ks, vs, Tlen, row_b, Q, H, Hkv, int(d), scale, p.split_len, p.qtiles, m_ws,
                                     l_ws, acc_ws);
        LPCUDA_CHECK_LAUNCH("shared_part_kernel");
    }
    const int64_t pairs = Q * H;
    suffix_merge_kernel<T><<<static_cast<unsigned>((pairs + SUF_WARPS - 1) / SUF_WARPS), SUF_WARPS * 32, 0, st>>>(
        q, kx, vx, row_b, row_start, row_r, Q, H, Hkv, int(d), scale, p.splits, p.split_len, m_ws, l_ws, acc_ws, out);
    LPCUDA_CHECK_LAUNCH("suffix_merge_kernel");
    return LP_OK;
}

}  // namespace stair
}  // namespace lpcuda

extern "C" {

LPCUDA_EXPORT int64_t lpcuda_staircase_attention_workspace_size(int64_t T, int64_t n_queries, int64_t H, int64_t Hkv,
                                                                int64_t d, int dtype) {
    using namespace lpcuda::stair;
    lpcuda::clear_error();
    if (check_sizes("lpcuda_staircase_attention_workspace_size", T, n_queries, H, Hkv, d, dtype) != LP_OK) return -1;
    return make_plan(T, n_queries, H, Hkv, d).total;
}

LPCUDA_EXPORT int lpcuda_staircase_attention(const void *q, const void *k_shared, const void *v_shared, int64_t T,
                                             const void *k_suffix, const void *v_suffix,
                                             const int64_t *branch_points, const int64_t *suffix_offsets,
                                             int64_t n_branches, int64_t S, const int64_t *query_rows,
                                             int64_t n_queries, int64_t H, int64_t Hkv, int64_t d, float scale,
                                             int dtype, float *out, void *workspace, int64_t workspace_bytes,
                                             void *stream) {
    using namespace lpcuda;
    using namespace lpcuda::stair;
    clear_error();
    const char *who = "lpcuda_staircase_attention";
    int st = check_sizes(who, T, S, H, Hkv, d, dtype);
    if (st != LP_OK) return st;
    if (n_branches < 0 || S < n_branches)
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: need 0 <= n_branches <= S (n=%lld S=%lld)", who,
                    (long long)n_branches, (long long)S);
    if (n_queries < 0 || n_queries >= kMaxDim || n_queries * H >= kMaxDim || (query_rows == nullptr && n_queries != S))
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: n_queries=%lld (need 0 <= n_queries, n_queries * H < 2^31, and == S=%lld "
                    "without query_rows)", who, (long long)n_queries, (long long)S);
    if (!std::isfinite(scale)) return fail(LP_ERR_INVALID_ARGUMENT, "%s: scale is not finite", who);
    if (n_branches == 0 || n_queries == 0) return LP_OK;
    if (!q || !k_suffix || !v_suffix || !branch_points || !suffix_offsets || !out ||
        (T > 0 && (!k_shared || !v_shared)))
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: null pointer among the arguments", who);
    const Plan p = make_plan(T, n_queries, H, Hkv, d);
    if (!workspace || workspace_bytes < p.total)
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: workspace too small (%lld bytes given, %lld needed)", who,
                    static_cast<long long>(workspace ? workspace_bytes : 0), static_cast<long long>(p.total));
    if ((reinterpret_cast<uintptr_t>(workspace) & 15u) != 0)
        return fail(LP_ERR_INVALID_ARGUMENT, "%s: workspace must be 16-byte aligned", who);
    cudaStream_t stm = static_cast<cudaStream_t>(stream);
    unsigned char *ws = static_cast<unsigned char *>(workspace);
    switch (dtype) {
        case LP_F32:
            return run(static_cast<const float *>(q), static_cast<const float *>(k_shared),
                       static_cast<const float *>(v_shared), T, static_cast<const float *>(k_suffix),
                       static_cast<const float *>(v_suffix), branch_points, suffix_offsets, n_branches, S,
                       query_rows, n_queries, H, Hkv, d, scale, out, p, ws, stm);
        case LP_BF16:
            return run(static_cast<const __nv_bfloat16 *>(q), static_cast<const __nv_bfloat16 *>(k_shared),
                       static_cast<const __nv_bfloat16 *>(v_shared), T, static_cast<const __nv_bfloat16 *>(k_suffix),
                       static_cast<const __nv_bfloat16 *>(v_suffix), branch_points, suffix_offsets, n_branches, S,
                       query_rows, n_queries, H, Hkv, d, scale, out, p, ws, stm);
        case LP_F16:
            return run(static_cast<const __half *>(q), static_cast<const __half *>(k_shared),
                       static_cast<const __half *>(v_shared), T, static_cast<const __half *>(k_suffix),
                       static_cast<const __half *>(v_suffix), branch_points, suffix_offsets, n_branches, S,
                       query_rows, n_queries, H, Hkv, d, scale, out, p, ws, stm);
        default:
            return fail(LP_ERR_INVALID_ARGUMENT, "%s: unknown dtype %d", who, dtype);
    }
}

}  // extern "C"
