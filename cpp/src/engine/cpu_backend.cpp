// CPU backend: the decoder of dev.linchpin.model.CausalLM in fp32 over a batch of independent rows
// (tokens of prefilled trajectories or of branches), OpenBLAS for the projections, the staircase
// CPU twin for attention, a persistent thread pool for everything else.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "engine/backend.h"
#include "engine/staircase_attention.h"
#include "engine/thread_pool.h"

namespace lp::engine {
namespace {

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

class CpuBackend final : public Backend {
public:
    CpuBackend(const ModelSpec &spec, const Weights &w, int threads) : s_(spec), w_(w), pool_(threads) {}

    std::unique_ptr<KvStore> allocate_kv(int64_t capacity) override {
        return std::make_unique<CpuKvStore>(s_, capacity);
    }

    void forward(const std::vector<Row> &rows, float *logits) override;
    // The backend reads the host weights in place (Weights' buffers keep their addresses): nothing to do.
    void weights_changed() override {}
    std::string describe() const override {
        return "CPU, fp32 weights and KV, OpenBLAS GEMMs, " + std::to_string(pool_.size()) + " threads";
    }

private:
    // y[R, N] = x[R, K] · W[N, K]ᵀ (+ bias), columns split over the pool.
    void linear(const float *x, int64_t R, int64_t K, const float *W, const float *bias, int64_t N, float *y);
    void rms_norm(const float *x, int64_t R, int64_t width, int64_t n, const float *weight, float *y);
    void rope(float *x, const std::vector<Row> &rows, int64_t heads);
    void attention(const std::vector<Row> &rows, int64_t layer, const float *q, float *out);

    const ModelSpec &s_;
    const Weights &w_;
    ThreadPool pool_;
    std::vector<float> x_, xn_, q_, k_, v_, att_, o_, gate_, up_;
};

void CpuBackend::linear(const float *x, int64_t R, int64_t K, const float *W, const float *bias, int64_t N, float *y) {
    int64_t parts = std::min<int64_t>(pool_.size(), std::max<int64_t>(1, N / 64));
    int64_t block = (N + parts - 1) / parts;
    pool_.parallel_for(parts, [&](int64_t p, int) {
        int64_t n0 = p * block, n = std::min(block, N - n0);
        if (n <= 0) return;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)n, (int)K, 1.0f, x, (int)K, W + n0 * K,
                    (int)K, 0.0f, y + n0, (int)N);
        if (bias)
            for (int64_t r = 0; r < R; ++r)
                for (int64_t c = 0; c < n; ++c) y[r * N + n0 + c] += bias[n0 + c];
    });
}

// RMSNorm of every group of n consecutive floats (n == width: whole rows; n == head_dim: per head),
// as transformers computes it: x · rsqrt(mean(x²) + eps) · weight[0, n).
void CpuBackend::rms_norm(const float *x, int64_t R, int64_t width, int64_t n, const float *weight, float *y) {
    const float eps = static_cast<float>(s_.rms_eps);
    for (int64_t g = 0; g < R * width / n; ++g) {
        const float *xi = x + g * n;
        float *yi = y + g * n;
        double ss = 0;
        for (int64_t c = 0; c < n; ++c) ss += (double)xi[c] * xi[c];
        float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
        for (int64_t c = 0; c < n; ++c) yi[c] = weight[c] * (xi[c] * inv);
    }
}

// transformers' rotate_half RoPE: element c pairs with c + d/2; angle = position · inv_freq[c] in fp32.
void CpuBackend::rope(float *x, const std::vector<Row> &rows, int64_t heads) {
    const int64_t d = s_.head_dim, half = d / 2;
    std::vector<float> cs(d);
    for (size_t r = 0; r < rows.size(); ++r) {
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
}

// Groups rows by the shared store they attend to and runs one staircase pass per (group, KV head).
void CpuBackend::attention(const std::vector<Row> &rows, int64_t layer, const float *q, float *out) {
    const int64_t hd = s_.heads * s_.head_dim;
    std::map<const KvStore *, std::vector<AttnRow>> groups;
    for (size_t r = 0; r < rows.size(); ++r) {
        const Row &row = rows[r];
        auto *suffix = static_cast<const CpuKvStore *>(row.suffix);
        groups[row.shared].push_back(AttnRow{q + r * hd, row.prefix, suffix ? suffix->k(layer) : nullptr,
                                             suffix ? suffix->v(layer) : nullptr, row.n_suffix, out + r * hd});
    }
    std::vector<std::pair<SharedKv, const std::vector<AttnRow> *>> work;
    for (auto &[store, list] : groups) {
        auto *shared = static_cast<const CpuKvStore *>(store);
        work.push_back({SharedKv{shared ? shared->k(layer) : nullptr, shared ? shared->v(layer) : nullptr, s_.kv_width()},
                        &list});
    }
    AttnShape shape{s_.heads, s_.kv_heads, s_.head_dim, 1.0f / std::sqrt(static_cast<float>(s_.head_dim)),
                    s_.kv_width()};
    const int64_t items = static_cast<int64_t>(work.size()) * s_.kv_heads;
    pool_.parallel_for(items, [&](int64_t i, int) {
        auto &[shared, list] = work[i / s_.kv_heads];
        staircase_attention_kv_head(shared, list->data(), static_cast<int64_t>(list->size()), shape, i % s_.kv_heads);
    });
}

void CpuBackend::forward(const std::vector<Row> &rows, float *logits) {
    const int64_t R = static_cast<int64_t>(rows.size()), D = s_.hidden, F = s_.intermediate;
    const int64_t hd = s_.heads * s_.head_dim, kvd = s_.kv_width();
    x_.resize(R * D), xn_.resize(R * D), q_.resize(R * hd), k_.resize(R * kvd), v_.resize(R * kvd);
    att_.resize(R * hd), o_.resize(R * D), gate_.resize(R * F), up_.resize(R * F);
    for (int64_t r = 0; r < R; ++r) std::memcpy(&x_[r * D], w_.embed + rows[r].token * D, sizeof(float) * D);

    for (int64_t l = 0; l < s_.layers; ++l) {
        const LayerWeights &L = w_.layers[l];
        // Attention block: pre-norm input (Llama/Qwen) or the raw residual stream (OLMo-2).
        const float *in = x_.data();
        if (!s_.post_norm()) {
            rms_norm(x_.data(), R, D, D, L.input_norm, xn_.data());
            in = xn_.data();
        }
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
        for (int64_t i = 0; i < R * D; ++i) x_[i] += o_[i];

        // MLP block.
        in = x_.data();
        if (!s_.post_norm()) {
            rms_norm(x_.data(), R, D, D, L.post_attn_norm, xn_.data());
            in = xn_.data();
        }
        linear(in, R, D, L.gate, L.b_gate, F, gate_.data());
        linear(in, R, D, L.up, L.b_up, F, up_.data());
        for (int64_t i = 0; i < R * F; ++i) {
            float g = gate_[i];
            gate_[i] = g / (1.0f + std::exp(-g)) * up_[i];
        }
        linear(gate_.data(), R, F, L.down, L.b_down, D, o_.data());
        if (s_.post_norm()) rms_norm(o_.data(), R, D, D, L.post_ff_norm, o_.data());
        for (int64_t i = 0; i < R * D; ++i) x_[i] += o_[i];
    }
    rms_norm(x_.data(), R, D, D, w_.final_norm, xn_.data());
    linear(xn_.data(), R, D, w_.lm_head, nullptr, s_.vocab, logits);
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const ModelSpec &spec, const Weights &weights, int threads) {
    return std::make_unique<CpuBackend>(spec, weights, threads);
}

}  // namespace lp::engine
