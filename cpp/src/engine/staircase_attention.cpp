#include "engine/staircase_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "core/error.h"
#include "cpu/fast_exp.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace lp::engine {
namespace {

constexpr int64_t kTile = 64;

// d-long dot product in 8 lanes (vectorised in the AVX2 clone), lanes summed in a fixed order.
LP_INLINE float dot(const float *a, const float *b, int64_t n) {
    simd::v8f acc{};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc += simd::load8(a + i) * simd::load8(b + i);
    float tail = 0;
    for (; i < n; ++i) tail += a[i] * b[i];
    return simd::hsum(acc) + tail;
}

// acc[0, d) = acc · scale + p · v: one value row folded into the running sum.
LP_INLINE void axpy(float *acc, float scale, float p, const float *v, int64_t d) {
    const simd::v8f sv = simd::v8f{} + scale, pv = simd::v8f{} + p;
    int64_t c = 0;
    for (; c + 8 <= d; c += 8) simd::store8(acc + c, simd::load8(acc + c) * sv + pv * simd::load8(v + c));
    for (; c < d; ++c) acc[c] = acc[c] * scale + p * v[c];
}

// Online softmax state of one (row, head): running max m, Σ exp(s − m), Σ exp(s − m)·v.
struct Softmax {
    float m = -INFINITY;
    float l = 0.0f;
    float *acc;   // [d]
};

// Folds scores s[0, n) with values V rows (position i at v + i * stride) into st.
LP_INLINE void fold(Softmax &st, float *s, int64_t n, const float *v, int64_t stride, int64_t d) {
    float mt = s[0];
    for (int64_t i = 1; i < n; ++i) mt = mt > s[i] ? mt : s[i];
    const float m = st.m > mt ? st.m : mt;
    float rescale = lp::cpu::fast_exp(st.m - m);   // 0 on the first fold (st.m = −inf)
    for (int64_t i = 0; i < n; ++i) s[i] = lp::cpu::fast_exp(s[i] - m);   // vectorised: no libm call
    float l = st.l * rescale;
    for (int64_t i = 0; i < n; ++i) {
        l += s[i];
        axpy(st.acc, i == 0 ? rescale : 1.0f, s[i], v + i * stride, d);
    }
    st.l = l;
    st.m = m;
}

}  // namespace

LP_SIMD_CLONES
void staircase_attention_kv_head(const SharedKv &shared, const AttnRow *rows, int64_t n_rows, const AttnShape &shape,
                                 int64_t g) {
    const int64_t d = shape.d, group = shape.H / shape.Hkv;
    const int64_t states = n_rows * group;
    std::vector<float> acc(2 * states * d, 0.0f);
    std::vector<Softmax> prefix_state(states), suffix_state(states);
    for (int64_t i = 0; i < states; ++i) {
        prefix_state[i].acc = acc.data() + i * d;
        suffix_state[i].acc = acc.data() + (states + i) * d;
    }
    int64_t max_prefix = 0, max_suffix = 0;
    for (int64_t r = 0; r < n_rows; ++r) {
        max_prefix = std::max(max_prefix, rows[r].prefix);
        max_suffix = std::max(max_suffix, rows[r].n_suffix);
    }
    std::vector<float> s(std::max(kTile, max_suffix));

    // Shared part: one pass over the tiles; a tile serves every row whose prefix reaches into it.
    for (int64_t t0 = 0; t0 < max_prefix; t0 += kTile) {
        const float *kt = shared.k + t0 * shared.stride + g * d;
        const float *vt = shared.v + t0 * shared.stride + g * d;
        for (int64_t r = 0; r < n_rows; ++r) {
            int64_t n = std::min(t0 + kTile, rows[r].prefix) - t0;
            if (n <= 0) continue;
            for (int64_t hh = 0; hh < group; ++hh) {
                const float *q = rows[r].q + (g * group + hh) * d;
                for (int64_t i = 0; i < n; ++i) s[i] = shape.scale * dot(q, kt + i * shared.stride, d);
                fold(prefix_state[r * group + hh], s.data(), n, vt, shared.stride, d);
            }
        }
    }
    // Suffix part, per row, then the log-sum-exp merge of the two partial softmaxes.
    for (int64_t r = 0; r < n_rows; ++r) {
        const AttnRow &row = rows[r];
        for (int64_t hh = 0; hh < group; ++hh) {
            Softmax &a = prefix_state[r * group + hh], &b = suffix_state[r * group + hh];
            const float *q = row.q + (g * group + hh) * d;
            if (row.n_suffix > 0) {
                const float *ks = row.k_suffix + g * d, *vs = row.v_suffix + g * d;
                for (int64_t i = 0; i < row.n_suffix; ++i) s[i] = shape.scale * dot(q, ks + i * shape.suffix_stride, d);
                fold(b, s.data(), row.n_suffix, vs, shape.suffix_stride, d);
            }
            float m = std::max(a.m, b.m);
            float wa = a.l > 0 ? std::exp(a.m - m) : 0.0f, wb = b.l > 0 ? std::exp(b.m - m) : 0.0f;
            float denom = a.l * wa + b.l * wb;
            float *o = row.out + (g * group + hh) * d;
            for (int64_t c = 0; c < d; ++c) o[c] = denom > 0 ? (a.acc[c] * wa + b.acc[c] * wb) / denom : 0.0f;
        }
    }
}

}  // namespace lp::engine

extern "C" LP_API int lp_cpu_staircase_attention(const float *q, const float *k_shared, const float *v_shared, int64_t T,
                                                 const float *k_suffix, const float *v_suffix,
                                                 const int64_t *branch_points, const int64_t *suffix_offsets,
                                                 int64_t n_branches, const int64_t *query_rows, int64_t n_queries,
                                                 int64_t H, int64_t Hkv, int64_t d, float scale, float *out,
                                                 int num_threads) {
    using namespace lp::engine;
    lp::clear_error();
    if (H < 1 || Hkv < 1 || d < 1 || H % Hkv != 0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad head shape H=%lld Hkv=%lld d=%lld (H must be a multiple of Hkv)",
                        (long long)H, (long long)Hkv, (long long)d);
    if (T < 0 || n_branches < 0) return lp::fail(LP_ERR_INVALID_ARGUMENT, "negative T or branch count");
    if (!std::isfinite(scale)) return lp::fail(LP_ERR_INVALID_ARGUMENT, "scale is not finite");
    if (n_branches == 0) return LP_OK;
    if (!q || !k_suffix || !v_suffix || !branch_points || !suffix_offsets || !out || (T > 0 && (!k_shared || !v_shared)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "null pointer among the arguments");
    if (suffix_offsets[0] != 0) return lp::fail(LP_ERR_INVALID_ARGUMENT, "suffix_offsets[0] must be 0");
    for (int64_t i = 0; i < n_branches; ++i) {
        if (branch_points[i] < 0 || branch_points[i] > T)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch_points[%lld]=%lld outside [0, %lld]", (long long)i,
                            (long long)branch_points[i], (long long)T);
        if (suffix_offsets[i + 1] <= suffix_offsets[i])
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld has an empty suffix (offsets must increase)", (long long)i);
    }
    const int64_t S = suffix_offsets[n_branches];
    if (query_rows == nullptr && n_queries != S)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "without query_rows every suffix row is a query: n_queries must be %lld, got %lld",
                        (long long)S, (long long)n_queries);
    if (n_queries < 0) return lp::fail(LP_ERR_INVALID_ARGUMENT, "negative n_queries");
    for (int64_t j = 0; query_rows != nullptr && j < n_queries; ++j)
        if (query_rows[j] < 0 || query_rows[j] >= S)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "query_rows[%lld]=%lld outside the %lld suffix rows", (long long)j,
                            (long long)query_rows[j], (long long)S);
    try {
        const int64_t hd = H * d, kvd = Hkv * d;
        std::vector<AttnRow> rows(n_queries);
        int64_t branch = 0;
        for (int64_t j = 0; j < n_queries; ++j) {
            const int64_t r = query_rows != nullptr ? query_rows[j] : j;
            // the branch holding suffix row r: the last i with offsets[i] <= r
            if (query_rows != nullptr || r >= suffix_offsets[branch + 1] || r < suffix_offsets[branch])
                branch = std::upper_bound(suffix_offsets, suffix_offsets + n_branches + 1, r) - suffix_offsets - 1;
            const int64_t first = suffix_offsets[branch];
            rows[j] = AttnRow{q + j * hd, branch_points[branch], k_suffix + first * kvd, v_suffix + first * kvd,
                              r - first + 1, out + j * hd};
        }
        SharedKv shared{k_shared, v_shared, kvd};
        AttnShape shape{H, Hkv, d, scale, kvd};
        ThreadPool pool(static_cast<int>(std::min<int64_t>(num_threads > 0 ? num_threads : 0, Hkv)));
        pool.parallel_for(Hkv, [&](int64_t g, int) {
            staircase_attention_kv_head(shared, rows.data(), n_queries, shape, g);
        });
        return LP_OK;
    } catch (const std::bad_alloc &) {
        return lp::fail(LP_ERR_OUT_OF_MEMORY, "out of host memory in staircase attention");
    }
}
