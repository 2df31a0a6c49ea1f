/*
 * Token choice over rows of logits, CUDA backend: top-n tokens with probabilities (lpcuda_topk) and
 * greedy / temperature / top-p sampling with the engine's counter-based RNG (lpcuda_sample).
 * Contract in cpp/include/linchpin.h (lp_cuda_topk, lp_cuda_sample); CPU twins lp_cpu_topk /
 * lp_cpu_sample wrap cpp/src/engine/token_choice.cpp, whose rules are mirrored here:
 *
 *   top-n:   order (logit desc, id asc), probabilities exp(z - max) / Σ exp(z - max) in double.
 *   greedy:  arg-max, lowest id on ties.
 *   sample:  u = counter_uniform(seed, request, step) (splitmix64 chained, bit-identical to the CPU);
 *            p_v = exp((z_v - max) / temperature) in double;
 *            top_p >= 1: walk ids in ascending order, the first v whose running Σ p exceeds u · Σ p;
 *            top_p <  1: in the order (p desc, id asc), keep the shortest prefix whose mass reaches
 *                        top_p · Σ p (at least one token), then the first kept token whose running
 *                        mass exceeds u · kept mass (the last kept token if rounding leaves none).
 *   logprob = z[token] - lse and entropy = lse - Σ softmax·z, temperature 1, double.
 *   Rows have stride V, and only ids [0, V_valid) exist (the rest pad the embedding beyond the
 *   tokenizer): in the kernels `ld` is the stride and `V` the valid count every loop runs over.
 *
 * One block per row, no sort of the vocabulary:
 *   - top-n: a radix select (4 passes of 8 bits over order-preserving 32-bit keys of the logits) finds
 *     the n-th largest logit τ; the tokens above τ plus the lowest-id tokens equal to τ (an id-ordered
 *     pass with block-wide ballot counts) are the top n, ranked in shared memory (n <= 1024).
 *   - top-p < 1: the same radix walk weighted by probability mass ("first token in the sorted order
 *     whose running mass reaches X"), run twice: for the nucleus boundary and for the sampled token.
 *     Tokens with equal logits have equal p, so a boundary inside a run of ties is resolved
 *     arithmetically (mass above + j · p) and the j-th lowest id of that run is looked up.
 *   - top-p >= 1: each thread sums a contiguous id segment, a block scan gives the mass before each
 *     segment, and the thread whose segment crosses u · Σ p walks it in id order.
 *
 * Exactness: ids of top-n and greedy tokens are decided by comparisons of the fp32 logits only, so they
 * equal the CPU twin's exactly. Probability sums are double but summed in a different order than the
 * CPU's sequential loop (and exp is CUDA's, within 1 ulp of glibc's), so a probability may differ in
 * its last fp32 bit, and a sampled token can differ from the CPU's only when u · mass falls within
 * ~1e-15 (relative) of a cumulative boundary; the mass histograms use shared-memory double atomics, so
 * such boundary cases are not even run-to-run deterministic. Logits containing NaN give unspecified
 * (but in-range) tokens. Rows never interact: a row's result does not depend on the batch.
 */
#include "common.cuh"

#include <cmath>
#include <cstdint>

namespace lpcuda {
namespace choice {

constexpr int NT = 512;             /* threads per row block */
constexpr int NW = NT / 32;
constexpr int MAX_N = 1024;         /* top-n capacity (shared-memory candidate list) */

/* ---------------------------------------------------------------------------------------------
 * Block-wide helpers (every thread of the block must call them; they contain barriers)
 * --------------------------------------------------------------------------------------------- */
struct Scratch {
    double d[NW];
    float f[NW];
    int64_t i[NW];
    int c[NW];
};

__device__ double block_sum(double x, Scratch &s) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    __syncthreads();
    if (lane == 0) s.d[w] = x;
    __syncthreads();
    double t = 0; /* fixed order: deterministic */
    for (int k = 0; k < NW; ++k) t += s.d[k];
    return t;
}

__device__ int64_t block_min_i64(int64_t x, Scratch &s) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const int64_t y = __shfl_xor_sync(0xffffffffu, x, o);
        x = y < x ? y : x;
    }
    __syncthreads();
    if (lane == 0) s.i[w] = x;
    __syncthreads();
    int64_t t = s.i[0];
    for (int k = 1; k < NW; ++k) t = s.i[k] < t ? s.i[k] : t;
    return t;
}

/* arg-max with the lowest id on ties; returns the id. */
__device__ int64_t block_argmax(float z, int64_t id, Scratch &s) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float z2 = __shfl_xor_sync(0xffffffffu, z, o);
        const int64_t i2 = __shfl_xor_sync(0xffffffffu, id, o);
        if (z2 > z || (z2 == z && i2 < id)) {
            z = z2;
            id = i2;
        }
    }
    __syncthreads();
    if (lane == 0) {
        s.f[w] = z;
        s.i[w] = id;
    }
    __syncthreads();
    float bz = s.f[0];
    int64_t bi = s.i[0];
    for (int k = 1; k < NW; ++k)
        if (s.f[k] > bz || (s.f[k] == bz && s.i[k] < bi)) {
            bz = s.f[k];
            bi = s.i[k];
        }
    return bi;
}

/* Exclusive prefix sum of an int flag over the block, plus the block total. */
__device__ int block_exclusive_count(int flag, int &total, Scratch &s) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const unsigned ballot = __ballot_sync(0xffffffffu, flag);
    const int in_warp = __popc(ballot & ((1u << lane) - 1u));
    __syncthreads();
    if (lane == 0) s.c[w] = __popc(ballot);
    __syncthreads();
    int before = 0;
    total = 0;
    for (int k = 0; k < NW; ++k) {
        if (k < w) before += s.c[k];
        total += s.c[k];
    }
    return before + in_warp;
}

/* Exclusive prefix sum of a double over the block (thread order). */
__device__ double block_exclusive_sum(double x, Scratch &s) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    double inc = x;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const double y = __shfl_up_sync(0xffffffffu, inc, o);
        if (lane >= o) inc += y;
    }
    __syncthreads();
    if (lane == 31) s.d[w] = inc;
    __syncthreads();
    double before = 0;
    for (int k = 0; k < w; ++k) before += s.d[k];
    return before + inc - x;
}

/* Order-preserving key of a logit: larger logit -> larger key; -0 and +0 are one key (they compare
 * equal on the CPU). */
__device__ __forceinline__ uint32_t key_of(float z) {
    uint32_t u = __float_as_uint(z);
    if (z == 0.f) u = 0u;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float float_of(uint32_t key) {
    const uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    return __uint_as_float(u);
}

/* The id of the j-th (0-based) lowest-id token whose key is `key` (j < number of such tokens). */
__device__ int64_t nth_with_key(const float *z, int64_t V, uint32_t key, int64_t j, Scratch &s) {
    __shared__ int64_t s_found;
    if (threadIdx.x == 0) s_found = -1;
    int64_t seen = 0;
    for (int64_t base = 0; base < V; base += NT) {
        const int64_t v = base + threadIdx.x;
        const int flag = (v < V && key_of(z[v]) == key) ? 1 : 0;
        int total = 0;
        const int rank = block_exclusive_count(flag, total, s);
        if (flag && seen + rank == j) s_found = v;
        seen += total;
        if (seen > j) break; /* uniform: seen and j are the same in every thread */
    }
    __syncthreads();
    return s_found;
}

/* ---------------------------------------------------------------------------------------------
 * Top-n
 * --------------------------------------------------------------------------------------------- */
__global__ void __launch_bounds__(NT) topk_kernel(const float *__restrict__ logits, int64_t ld, int64_t V, int n,
                                                  int64_t *__restrict__ ids, float *__restrict__ probs) {
    __shared__ Scratch s;
    __shared__ int hist[256];
    __shared__ uint32_t s_prefix;
    __shared__ int s_remaining;
    __shared__ int s_gt;
    __shared__ int64_t cand[MAX_N];
    const float *z = logits + int64_t(blockIdx.x) * ld;
    const int tid = threadIdx.x;

    int64_t best = tid < V ? tid : 0;
    float bz = z[best];
    for (int64_t v = tid + NT; v < V; v += NT)
        if (z[v] > bz) {
            bz = z[v];
            best = v;
        }
    best = block_argmax(bz, best, s);
    const float m = z[best];
    double sum = 0;
    for (int64_t v = tid; v < V; v += NT) sum += exp(double(z[v]) - double(m));
    sum = block_sum(sum, s);

    /* radix select of the n-th largest key */
    uint32_t prefix = 0, mask = 0;
    int remaining = n;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int k = tid; k < 256; k += NT) hist[k] = 0;
        __syncthreads();
        for (int64_t v = tid; v < V; v += NT) {
            const uint32_t key = key_of(z[v]);
            if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1);
        }
        __syncthreads();
        if (tid == 0) {
            int dg = 255;
            for (; dg > 0; --dg) {
                if (remaining <= hist[dg]) break;
                remaining -= hist[dg];
            }
            s_prefix = prefix | (uint32_t(dg) << shift);
            s_remaining = remaining;
        }
        __syncthreads();
        prefix = s_prefix;
        remaining = s_remaining;
        mask |= 255u << shift;
    }
    /* prefix = τ; `remaining` tokens equal to τ (lowest ids) complete the n - remaining above it */
    const int n_gt = n - remaining;
    if (tid == 0) s_gt = 0;
    __syncthreads();
    int64_t seen_eq = 0;
    for (int64_t base = 0; base < V; base += NT) {
        const int64_t v = base + tid;
        uint32_t key = 0;
        if (v < V) key = key_of(z[v]);
        if (v < V && key > prefix) cand[atomicAdd(&s_gt, 1)] = v; /* order fixed by the ranking below */
        const int flag = (v < V && key == prefix) ? 1 : 0;
        int total = 0;
        const int rank = block_exclusive_count(flag, total, s);
        if (flag && seen_eq + rank < remaining) cand[n_gt + seen_eq + rank] = v;
        seen_eq += total;
    }
    __syncthreads();
    /* rank the n candidates by (logit desc, id asc) and write them out */
    for (int i = tid; i < n; i += NT) {
        const int64_t vi = cand[i];
        const float zi = z[vi];
        int rank = 0;
        for (int j = 0; j < n; ++j) {
            const int64_t vj = cand[j];
            const float zj = z[vj];
            if (zj > zi || (zj == zi && vj < vi)) ++rank;
        }
        const int64_t o = int64_t(blockIdx.x) * n + rank;
        ids[o] = vi;
        probs[o] = static_cast<float>(exp(double(zi) - double(m)) / sum);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Sampling
 * --------------------------------------------------------------------------------------------- */
__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Bit-identical to lp::engine::counter_uniform. */
__device__ __forceinline__ double counter_uniform(uint64_t seed, uint64_t request, uint64_t step) {
    const uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ request) ^ step);
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

struct Boundary {
    uint32_t key;   /* logit key of the run of ties holding the boundary */
    double above;   /* mass of every token ordered before that run */
    int64_t ceq;    /* tokens in that run */
    double p;       /* probability weight of each token of the run */
    int64_t j;      /* 1-based position of the boundary token within the run (ids ascending) */
};

/* The first token in the order (logit desc, id asc) whose running mass reaches X (strict: exceeds X).
 * If rounding leaves no such token, the last token of that order. */
__device__ Boundary weighted_select(const float *z, int64_t V, float m, double temperature, double X, bool strict,
                                    Scratch &s) {
    __shared__ double hmass[256];
    __shared__ int hcnt[256];
    __shared__ uint32_t s_prefix;
    __shared__ double s_above;
    __shared__ int s_ceq;
    const int tid = threadIdx.x;
    uint32_t prefix = 0, mask = 0;
    double above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int k = tid; k < 256; k += NT) {
            hmass[k] = 0;
            hcnt[k] = 0;
        }
        __syncthreads();
        for (int64_t v = tid; v < V; v += NT) {
            const float zv = z[v];
            const uint32_t key = key_of(zv);
            if ((key & mask) == prefix) {
                const uint32_t dg = (key >> shift) & 255u;
                atomicAdd(&hmass[dg], exp((double(zv) - double(m)) / temperature));
                atomicAdd(&hcnt[dg], 1);
            }
        }
        __syncthreads();
        if (tid == 0) {
            double acc = above;
            int chosen = -1, lowest = -1;
            for (int dg = 255; dg >= 0; --dg) {
                if (hcnt[dg] == 0) continue;
                lowest = dg;
                const double reach = acc + hmass[dg];
                if (strict ? reach > X : reach >= X) {
                    chosen = dg;
                    break;
                }
                acc += hmass[dg];
            }
            if (chosen < 0) { /* rounding: X is beyond the total; take the last run */
                chosen = lowest;
                acc -= hmass[lowest];
            }
            s_prefix = prefix | (uint32_t(chosen) << shift);
            s_above = acc;
            s_ceq = hcnt[chosen];
        }
        __syncthreads();
        prefix = s_prefix;
        above = s_above;
        mask |= 255u << shift;
    }
    Boundary b;
    b.key = prefix;
    b.above = above;
    b.ceq = s_ceq;
    b.p = exp((double(float_of(prefix)) - double(m)) / temperature);
    /* smallest j in [1, ceq] with above + j p reaching X */
    const double jd = b.p > 0 ? ceil((X - above) / b.p) : double(b.ceq); /* clamp in double: no overflow */
    int64_t j = !(jd >= 1.0) ? 1 : (jd > double(b.ceq) ? b.ceq : static_cast<int64_t>(jd));
    auto reaches = [&](int64_t jj) {
        const double r = above + double(jj) * b.p;
        return strict ? r > X : r >= X;
    };
    while (j > 1 && reaches(j - 1)) --j;
    while (j < b.ceq && !reaches(j)) ++j;
    b.j = j;
    __syncthreads(); /* s_* are reused by the next call */
    return b;
}

__global__ void __launch_bounds__(NT) sample_kernel(const float *__restrict__ logits, int64_t ld, int64_t V,
                                                    double temperature,
                                                    double top_p, uint64_t seed,
                                                    const int64_t *__restrict__ request_ids,
                                                    const int64_t *__restrict__ steps, int64_t *__restrict__ tokens,
                                                    double *__restrict__ logprob, double *__restrict__ entropy) {
    __shared__ Scratch s;
    const int64_t row = blockIdx.x;
    const float *z = logits + row * ld;
    const int tid = threadIdx.x;

    int64_t best = tid < V ? tid : 0;
    float bz = z[best];
    for (int64_t v = tid + NT; v < V; v += NT)
        if (z[v] > bz) {
            bz = z[v];
            best = v;
        }
    best = block_argmax(bz, best, s);
    const float m = z[best];
    double sum = 0, sum_z = 0;
    for (int64_t v = tid; v < V; v += NT) {
        const double e = exp(double(z[v]) - double(m));
        sum += e;
        if (e > 0) sum_z += e * double(z[v]); /* a -inf logit adds nothing (0 * -inf would be NaN) */
    }
    sum = block_sum(sum, s);
    sum_z = block_sum(sum_z, s);
    const double lse = double(m) + log(sum);

    int64_t token = best;
    if (temperature > 0) {
        const double u = counter_uniform(seed, static_cast<uint64_t>(request_ids[row]), static_cast<uint64_t>(steps[row]));
        double total = 0;
        for (int64_t v = tid; v < V; v += NT) total += exp((double(z[v]) - double(m)) / temperature);
        total = block_sum(total, s);
        if (top_p >= 1.0) {
            const double target = u * total;
            const int64_t seg = (V + NT - 1) / NT;
            const int64_t lo = tid * seg, hi = lo + seg < V ? lo + seg : V;
            double seg_sum = 0;
            for (int64_t v = lo; v < hi; ++v) seg_sum += exp((double(z[v]) - double(m)) / temperature);
            const double before = block_exclusive_sum(seg_sum, s);
            int64_t found = INT64_MAX;
            if (lo < hi) {
                if (before > target) {
                    found = lo;
                } else if (before + seg_sum > target) {
                    double acc = before;
                    for (int64_t v = lo; v < hi; ++v) {
                        acc += exp((double(z[v]) - double(m)) / temperature);
                        if (target < acc) {
                            found = v;
                            break;
                        }
                    }
                }
            }
            found = block_min_i64(found, s);
            token = found == INT64_MAX ? V - 1 : found;
        } else {
            const Boundary nucleus = weighted_select(z, V, m, temperature, top_p * total, false, s);
            const double mass = nucleus.above + double(nucleus.j) * nucleus.p;
            Boundary pick = weighted_select(z, V, m, temperature, u * mass, true, s);
            if (pick.key < nucleus.key || (pick.key == nucleus.key && pick.j > nucleus.j)) pick = nucleus;
            token = nth_with_key(z, V, pick.key, pick.j - 1, s);
            if (token < 0) token = best; /* unreachable: the run holds ceq >= j tokens */
        }
    }
    if (tid == 0) {
        tokens[row] = token;
        if (logprob) logprob[row] = double(z[token]) - lse;
        if (entropy) entropy[row] = lse - sum_z / sum;
    }
}

}  // namespace choice
}  // namespace lpcuda

extern "C" {

LPCUDA_EXPORT int lpcuda_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids,
                              float *probs, void *stream) {
    using namespace lpcuda;
    using namespace lpcuda::choice;
    clear_error();
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V || n < 1 || n > V_valid)
        return fail(LP_ERR_INVALID_ARGUMENT,
                    "lpcuda_topk: need B >= 0, 1 <= V_valid <= V, 1 <= n <= V_valid (B=%lld V=%lld V_valid=%lld n=%lld)",
                    (long long)B, (long long)V, (long long)V_valid, (long long)n);
    if (n > MAX_N) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_topk: n=%lld > %d", (long long)n, MAX_N);
    if (B > 0x7fffffff) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_topk: B=%lld >= 2^31", (long long)B);
    if (B == 0) return LP_OK;
    if (!logits || !ids || !probs) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_topk: null pointer");
    topk_kernel<<<static_cast<unsigned>(B), NT, 0, static_cast<cudaStream_t>(stream)>>>(logits, V, V_valid, int(n), ids,
                                                                                        probs);
    LPCUDA_CHECK_LAUNCH("topk_kernel");
    return LP_OK;
}

LPCUDA_EXPORT int lpcuda_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature,
                                double top_p, uint64_t seed, const int64_t *request_ids, const int64_t *steps,
                                int64_t *tokens, double *logprob, double *entropy, void *stream) {
    using namespace lpcuda;
    using namespace lpcuda::choice;
    clear_error();
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V)
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_sample: need B >= 0 and 1 <= V_valid <= V (B=%lld V=%lld V_valid=%lld)",
                    (long long)B, (long long)V, (long long)V_valid);
    if (std::isnan(temperature) || std::isnan(top_p))
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_sample: temperature and top_p must not be NaN");
    if (B > 0x7fffffff) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_sample: B=%lld >= 2^31", (long long)B);
    if (B == 0) return LP_OK;
    if (!logits || !tokens || (temperature > 0 && (!request_ids || !steps)))
        return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_sample: null pointer");
    sample_kernel<<<static_cast<unsigned>(B), NT, 0, static_cast<cudaStream_t>(stream)>>>(
        logits, V, V_valid, temperature, top_p, seed, request_ids, steps, tokens, logprob, entropy);
    LPCUDA_CHECK_LAUNCH("sample_kernel");
    return LP_OK;
}

}  // extern "C"
