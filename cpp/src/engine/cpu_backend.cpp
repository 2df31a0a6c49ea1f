// CPU backend: the decoder of dev.linchpin.model.CausalLM in fp32 over a batch of independent rows
// (tokens of prefilled trajectories or of branches), the engine's thread pool for everything.
//
// Where the time goes and what is done about it (a decode step is a few dozen rows):
//   - projections: gemm_nt (reads each weight once, no packing) up to kOwnGemmRows rows, OpenBLAS
//     sgemm for prefill-sized batches; output columns split over the threads;
//   - attention: the staircase twin, one work item per (shared store, KV head, block of rows);
//   - the element-wise steps (norms, RoPE, residuals, SwiGLU) run over row chunks, one per thread,
//     fused where they meet so a layer is a handful of parallel regions;
//   - no LM head when the caller wants no logits (a prefill for rollouts only).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "cpu/fast_exp.h"
#include "engine/backend.h"
#include "engine/gemm_nt.h"
#include "engine/simd.h"
#include "engine/staircase_attention.h"
#include "engine/thread_pool.h"

namespace lp::engine {
namespace {

// Up to this many rows the projections run through gemm_nt; above, OpenBLAS (whose packing of the
// weights then pays for itself).
constexpr int64_t kOwnGemmRows = 96;
// Element-wise work below this many floats per thread is not worth a parallel region.
constexpr int64_t kGrainFloats = 4096;

class CpuKvStore final : public KvStore {
public:
    CpuKvStore(const ModelSpec &spec, int64_t capacity)
        : capacity_(capacity), width_(spec.kv_width()), layer_floats_(capacity * spec.kv_width()),
          data_(static_cast<size_t>(2 * spec.layers * capacity * spec.kv_width())) {}
    int64_t capacity() const override { return capacity_; }
    float *k(int64_t layer) { return data_.data() + (2 * layer) * layer_floats_; }
    float *v(int64_t layer) { return data_.data() + (2 * layer + 1) * layer_floats_; }
    const float *k(int64_t layer) const { return data_.data() + (2 * layer) * layer_floats_; }
    const float *v(int64_t layer) const { return data_.data() + (2 * layer + 1) * layer_floats_; }
    int64_t width() const { return width_; }

private:
    int64_t capacity_, width_, layer_floats_;
    std::vector<float> data_;
};

// y = x · rsqrt(mean(x²) + eps) · weight over each group of n floats (rows [r0, r1) of `width`), as
// transformers computes it; the sum of squares in 8 fp32 lanes, combined in double.
LP_SIMD_CLONES
void rms_norm_rows(const float *x, int64_t r0, int64_t r1, int64_t width, int64_t n, const float *weight, float eps,
                   float *y) {
    for (int64_t g = r0 * width / n; g < r1 * width / n; ++g) {
        const float *xi = x + g * n;
        float *yi = y + g * n;
        simd::v8f acc{};
        int64_t c = 0;
        for (; c + 8 <= n; c += 8) {
            const simd::v8f v = simd::load8(xi + c);
            acc += v * v;
        }
        double ss = 0;
        for (int j = 0; j < 8; ++j) ss += acc[j];
        for (; c < n; ++c) ss += double(xi[c]) * xi[c];
        const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
        for (c = 0; c < n; ++c) yi[c] = weight[c] * (xi[c] * inv);
    }
}

// x += o over [i0, i1).
LP_SIMD_CLONES
void add_into(float *x, const float *o, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) x[i] += o[i];
}

// gate = silu(gate) · up over [i0, i1).
LP_SIMD_CLONES
void swiglu(float *gate, const float *up, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
        const float g = gate[i];
        gate[i] = g / (1.0f + lp::cpu::fast_exp(-g)) * up[i];
    }
}

class CpuBackend final : public Backend {
public:
    CpuBackend(const ModelSpec &spec, const Weights &w, ThreadPool &pool) : s_(spec), w_(w), pool_(pool) {}

    std::unique_ptr<KvStore> allocate_kv(int64_t capacity) override {
        return std::make_unique<CpuKvStore>(s_, capacity);
    }

    void forward(const std::vector<Row> &rows, float *logits) override;
    // The backend reads the host weights in place (Weights' buffers keep their addresses): nothing to do.
    void weights_changed() override {}
    std::string describe() const override {
        return "CPU, fp32 weights and KV, own GEMM up to " + std::to_string(kOwnGemmRows) + " rows and OpenBLAS above, " +
               std::to_string(pool_.size()) + " threads";
    }

private:
    // y[R, N] = x[R, K] · W[N, K]ᵀ (+ bias), columns split over the pool.
    void linear(const float *x, int64_t R, int64_t K, const float *W, const float *bias, int64_t N, float *y);
    // RMSNorm of every group of n consecutive floats (n == width: whole rows; n == head_dim: per head).
    void rms_norm(const float *x, int64_t R, int64_t width, int64_t n, const float *weight, float *y);
    void rope(float *x, const std::vector<Row> &rows, int64_t heads);
    void attention(const std::vector<Row> &rows, int64_t layer, const float *q, float *out);
    // x += o, then (norm_weight != null) xn = RMSNorm(x): the residual and the next block's input norm.
    void residual_norm(const float *o, int64_t R, const float *norm_weight);

    const ModelSpec &s_;
    const Weights &w_;
    ThreadPool &pool_;
    std::vector<float> x_, xn_, q_, k_, v_, att_, o_, gate_, up_;
};

void CpuBackend::linear(const float *x, int64_t R, int64_t K, const float *W, const float *bias, int64_t N, float *y) {
    const bool own = R <= kOwnGemmRows;
    // At least 48 columns (a multiple of gemm_nt's 3) per part, and no more parts than threads.
    int64_t parts = std::min<int64_t>(pool_.size(), std::max<int64_t>(1, N / 48));
    int64_t block = (N + parts - 1) / parts;
    if (own) block = (block + 2) / 3 * 3;
    parts = (N + block - 1) / block;
    pool_.parallel_for(parts, [&](int64_t p, int) {
        int64_t n0 = p * block, n = std::min(block, N - n0);
        if (n <= 0) return;
        if (own) {
            gemm_nt(x, R, K, W + n0 * K, n, bias ? bias + n0 : nullptr, y + n0, N);
            return;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)n, (int)K, 1.0f, x, (int)K, W + n0 * K,
                    (int)K, 0.0f, y + n0, (int)N);
        if (bias)
            for (int64_t r = 0; r < R; ++r)
                for (int64_t c = 0; c < n; ++c) y[r * N + n0 + c] += bias[n0 + c];
    });
}

void CpuBackend::rms_norm(const float *x, int64_t R, int64_t width, int64_t n, const float *weight, float *y) {
    const float eps = static_cast<float>(s_.rms_eps);
    pool_.parallel_chunks(R, std::max<int64_t>(1, kGrainFloats / width),
                          [&](int64_t r0, int64_t r1, int) { rms_norm_rows(x, r0, r1, width, n, weight, eps, y); });
}

// transformers' rotate_half RoPE: element c pairs with c + d/2; angle = position · inv_freq[c] in fp32.
void CpuBackend::rope(float *x, const std::vector<Row> &rows, int64_t heads) {
    const int64_t d = s_.head_dim, half = d / 2, R = static_cast<int64_t>(rows.size());
    pool_.parallel_chunks(R, std::max<int64_t>(1, kGrainFloats / (heads * d)), [&](int64_t r0, int64_t r1, int) {
        std::vector<float> cs(d);
        for (int64_t r = r0; r < r1; ++r) {
            float pos = static_cast<float>(rows[r].position);
            for (int64_t c = 0; c < half; ++c) {
                float angle = pos * s_.inv_freq[c];
                cs[c] = std::cos(angle);
                cs[half + c] = std::sin(angle);
            }
            for (int64_t h = 0; h < heads; ++h) {
                float *xh = x + (r * heads + h) * d;
                for (int64_t c = 0; c < half; ++c) {
                    float a = xh[c], b = xh[half + c];
                    xh[c] = a * cs[c] - b * cs[half + c];
                    xh[half + c] = b * cs[c] + a * cs[half + c];
                }
            }
        }
    });
}

// Groups rows by the shared store they attend to; one work item per (group, KV head, block of rows).
// A block of rows shares the loads of each shared-KV tile; blocks exist so that a decode step whose
// branches all read one trajectory still gives every thread work.
void CpuBackend::attention(const std::vector<Row> &rows, int64_t layer, const float *q, float *out) {
    const int64_t hd = s_.heads * s_.head_dim;
    std::map<const KvStore *, std::vector<AttnRow>> groups;
    for (size_t r = 0; r < rows.size(); ++r) {
        const Row &row = rows[r];
        auto *suffix = static_cast<const CpuKvStore *>(row.suffix);
        groups[row.shared].push_back(AttnRow{q + r * hd, row.prefix, suffix ? suffix->k(layer) : nullptr,
                                             suffix ? suffix->v(layer) : nullptr, row.n_suffix, out + r * hd});
    }
    struct Item {
        SharedKv shared;
        const AttnRow *rows;
        int64_t n, g;
    };
    const int64_t want = 2 * pool_.size();   // enough items to balance uneven rows over the threads
    const int64_t per_group = std::max<int64_t>(1, (want + static_cast<int64_t>(groups.size()) * s_.kv_heads - 1) /
                                                       (static_cast<int64_t>(groups.size()) * s_.kv_heads));
    std::vector<Item> items;
    for (auto &[store, list] : groups) {
        auto *shared = static_cast<const CpuKvStore *>(store);
        SharedKv kv{shared ? shared->k(layer) : nullptr, shared ? shared->v(layer) : nullptr, s_.kv_width()};
        const int64_t n = static_cast<int64_t>(list.size());
        const int64_t blocks = std::min(per_group, std::max<int64_t>(1, n / 4));
        const int64_t per = (n + blocks - 1) / blocks;
        for (int64_t b0 = 0; b0 < n; b0 += per)
            for (int64_t g = 0; g < s_.kv_heads; ++g) items.push_back(Item{kv, list.data() + b0, std::min(per, n - b0), g});
    }
    AttnShape shape{s_.heads, s_.kv_heads, s_.head_dim, 1.0f / std::sqrt(static_cast<float>(s_.head_dim)),
                    s_.kv_width()};
    pool_.parallel_for(static_cast<int64_t>(items.size()), [&](int64_t i, int) {
        const Item &it = items[i];
        staircase_attention_kv_head(it.shared, it.rows, it.n, shape, it.g);
    });
}

void CpuBackend::residual_norm(const float *o, int64_t R, const float *norm_weight) {
    const int64_t D = s_.hidden;
    const float eps = static_cast<float>(s_.rms_eps);
    pool_.parallel_chunks(R, std::max<int64_t>(1, kGrainFloats / D), [&](int64_t r0, int64_t r1, int) {
        add_into(x_.data(), o, r0 * D, r1 * D);
        if (norm_weight) rms_norm_rows(x_.data(), r0, r1, D, D, norm_weight, eps, xn_.data());
    });
}

void CpuBackend::forward(const std::vector<Row> &rows, float *logits) {
    const int64_t R = static_cast<int64_t>(rows.size()), D = s_.hidden, F = s_.intermediate;
    const int64_t hd = s_.heads * s_.head_dim, kvd = s_.kv_width();
    x_.resize(R * D), xn_.resize(R * D), q_.resize(R * hd), k_.resize(R * kvd), v_.resize(R * kvd);
    att_.resize(R * hd), o_.resize(R * D), gate_.resize(R * F), up_.resize(R * F);
    for (int64_t r = 0; r < R; ++r) std::memcpy(&x_[r * D], w_.embed + rows[r].token * D, sizeof(float) * D);
    const bool pre_norm = !s_.post_norm();
    if (pre_norm) rms_norm(x_.data(), R, D, D, w_.layers[0].input_norm, xn_.data());

    for (int64_t l = 0; l < s_.layers; ++l) {
        const LayerWeights &L = w_.layers[l];
        // Attention block: pre-norm input (Llama/Qwen; xn_ holds it already) or the raw residual stream (OLMo-2).
        const float *in = pre_norm ? xn_.data() : x_.data();
        linear(in, R, D, L.wq, L.bq, hd, q_.data());
        linear(in, R, D, L.wk, L.bk, kvd, k_.data());
        linear(in, R, D, L.wv, L.bv, kvd, v_.data());
        if (s_.family == Family::Olmo2) {            // over all heads, before the split
            rms_norm(q_.data(), R, hd, hd, L.q_norm, q_.data());
            rms_norm(k_.data(), R, kvd, kvd, L.k_norm, k_.data());
        } else if (s_.family == Family::Qwen3) {     // per head
            rms_norm(q_.data(), R, hd, s_.head_dim, L.q_norm, q_.data());
            rms_norm(k_.data(), R, kvd, s_.head_dim, L.k_norm, k_.data());
        }
        rope(q_.data(), rows, s_.heads);
        rope(k_.data(), rows, s_.kv_heads);
        for (int64_t r = 0; r < R; ++r) {
            auto *dest = static_cast<CpuKvStore *>(rows[r].dest);
            std::memcpy(dest->k(l) + rows[r].dest_index * kvd, &k_[r * kvd], sizeof(float) * kvd);
            std::memcpy(dest->v(l) + rows[r].dest_index * kvd, &v_[r * kvd], sizeof(float) * kvd);
        }
        attention(rows, l, q_.data(), att_.data());
        linear(att_.data(), R, hd, L.wo, L.bo, D, o_.data());
        if (s_.post_norm()) rms_norm(o_.data(), R, D, D, L.post_attn_norm, o_.data());
        residual_norm(o_.data(), R, pre_norm ? L.post_attn_norm : nullptr);

        // MLP block.
        in = pre_norm ? xn_.data() : x_.data();
        linear(in, R, D, L.gate, L.b_gate, F, gate_.data());
        linear(in, R, D, L.up, L.b_up, F, up_.data());
        pool_.parallel_chunks(R * F, kGrainFloats,
                              [&](int64_t i0, int64_t i1, int) { swiglu(gate_.data(), up_.data(), i0, i1); });
        linear(gate_.data(), R, F, L.down, L.b_down, D, o_.data());
        if (s_.post_norm()) rms_norm(o_.data(), R, D, D, L.post_ff_norm, o_.data());
        // The residual, then the next layer's input norm (or, after the last layer, the final norm).
        const float *next_norm = l + 1 < s_.layers ? (pre_norm ? w_.layers[l + 1].input_norm : nullptr) : w_.final_norm;
        residual_norm(o_.data(), R, logits != nullptr || l + 1 < s_.layers ? next_norm : nullptr);
    }
    if (logits == nullptr) return;   // KV written; no one wants the logits (a prefill for rollouts)
    linear(xn_.data(), R, D, w_.lm_head, nullptr, s_.vocab, logits);
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const ModelSpec &spec, const Weights &weights, ThreadPool &pool) {
    return std::make_unique<CpuBackend>(spec, weights, pool);
}

}  // namespace lp::engine
