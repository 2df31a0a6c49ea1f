// CPU twin of the fused masked linear cross-entropy (contract in linchpin.h): the reference semantics
// of the CUDA kernel, and the CPU training path.
//
// Plan (ARCHITECTURE.md decision 5): compact the rows with w != 0, then walk them in chunks of R rows,
// R set by the caller's memory budget (lp_masked_linear_ce_row_bytes bytes per row). Per chunk, with
// the kernel's T worker threads:
//   A. the chunk's rows split into T slices; each worker, for its slice:
//        gathers its rows of h into Hc (masked rows are never read),
//        Z = Hc · Wᵀ (one sgemm: its rows × the whole vocabulary),
//        one pass per row: an online max / Σexp / Σexp·(z − m) over 1024-wide blocks that stores
//        e = exp(z − m_block) in place, then one multiply per element turns e into
//        G = (w/denom)·(softmax − onehot) (one exp per logit in all),
//        dHc = G · W (one sgemm), scattered back to the rows' places in dh;
//   B. the vocabulary split into T slices; each worker: dW[slice] += G[:, slice]ᵀ · Hc (one sgemm,
//      β = 1; a worker owns its rows of dW: no locks, no atomics).
// Each worker calls OpenBLAS single-threaded (its thread count is set to 1 for the call and restored
// after, so libtorch keeps its own setting). Why not one OpenBLAS call with T threads per GEMM: for
// dh = G·W (K = V, a small output) OpenBLAS's threads synchronise once per K block, and on a shared
// 2-vCPU machine that GEMM measured 4-5x slower with 2 OpenBLAS threads than with 1; the row and
// vocabulary splits need two synchronisations per chunk, and their GEMMs stay large (R/T × V × D).
// Deterministic loss: per-row losses are summed in row order at the end, whatever the chunking or threads.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#include "core/error.h"
#include "cpu/fast_exp.h"
#include "engine/thread_pool.h"

namespace {

constexpr int64_t kBlock = 1024;   // logits per online-softmax block (4 KiB: stays in L1 for the re-read)
constexpr int kLanes = 16;         // independent accumulators per block: one AVX-512 / two AVX2 registers

// OpenBLAS's thread count for the kernel's own GEMMs, restored on scope exit. openblas_set_num_threads
// is process-wide: another thread calling OpenBLAS during the kernel would see this count.
class BlasThreads {
public:
    explicit BlasThreads(int threads) : saved_(openblas_get_num_threads()) {
        if (threads != saved_) openblas_set_num_threads(threads);
    }
    ~BlasThreads() {
        if (openblas_get_num_threads() != saved_) openblas_set_num_threads(saved_);
    }
    BlasThreads(const BlasThreads &) = delete;
    BlasThreads &operator=(const BlasThreads &) = delete;

private:
    int saved_;
};

struct BlockStats {
    float max;    // running max after this block
    float sum;    // Σ exp(z − max) over the block
    float sum_t;  // Σ exp(z − max) · (z − max) over the block
};

// One block of n ≤ kBlock logits: its max folded with the running max m_in, then e = exp(z − m) summed
// (and stored in place when `store`). 16 independent lanes so the compiler vectorises without
// reordering any one lane's sum (no -ffast-math needed; results do not depend on the target).
__attribute__((target_clones("avx512f", "avx2", "default")))
BlockStats fold_block(float *z, int64_t n, float m_in, bool store) {
    float lane_max[kLanes];
    for (int l = 0; l < kLanes; ++l) lane_max[l] = m_in;
    const int64_t full = n / kLanes * kLanes;
    for (int64_t v = 0; v < full; v += kLanes)
        for (int l = 0; l < kLanes; ++l) lane_max[l] = z[v + l] > lane_max[l] ? z[v + l] : lane_max[l];
    float m = m_in;
    for (int l = 0; l < kLanes; ++l) m = lane_max[l] > m ? lane_max[l] : m;
    for (int64_t v = full; v < n; ++v) m = z[v] > m ? z[v] : m;

    float lane_sum[kLanes] = {}, lane_t[kLanes] = {};
    for (int64_t v = 0; v < full; v += kLanes) {
        float e[kLanes];
        for (int l = 0; l < kLanes; ++l) {
            const float t = z[v + l] - m;
            e[l] = lp::cpu::fast_exp(t);
            lane_sum[l] += e[l];
            lane_t[l] += e[l] * t;
        }
        if (store)
            for (int l = 0; l < kLanes; ++l) z[v + l] = e[l];
    }
    BlockStats s{m, 0.0f, 0.0f};
    for (int l = 0; l < kLanes; ++l) {
        s.sum += lane_sum[l];
        s.sum_t += lane_t[l];
    }
    for (int64_t v = full; v < n; ++v) {
        const float t = z[v] - m;
        const float e = lp::cpu::fast_exp(t);
        s.sum += e;
        s.sum_t += e * t;
        if (store) z[v] = e;
    }
    return s;
}

// z[0, n) *= scale.
__attribute__((target_clones("avx512f", "avx2", "default")))
void scale_block(float *z, int64_t n, float scale) {
    for (int64_t v = 0; v < n; ++v) z[v] *= scale;
}

struct RowOut {
    double loss;      // −w · logp (divided by denom at the end)
    float logp, entropy;
};

// Row pass over one row of logits z [V]: statistics, and with `grad` z becomes the gradient row
// coef · (softmax − onehot(target)). block_max is scratch of ceil(V / kBlock) floats.
RowOut row_pass(float *z, int64_t V, int64_t target, double weight, double denom, bool grad, float *block_max) {
    const float z_target = z[target];   // read before the pass overwrites it
    float m = -INFINITY;
    double sum = 0.0, sum_t = 0.0;      // Σ exp(z − m), Σ exp(z − m)(z − m), rescaled as m grows
    int64_t b = 0;
    for (int64_t v0 = 0; v0 < V; v0 += kBlock, ++b) {
        const int64_t n = std::min(kBlock, V - v0);
        const BlockStats s = fold_block(z + v0, n, m, grad);
        if (s.max > m && b > 0) {   // rescale to the new max: with r = e^(m_old − m_new),
            const double shift = static_cast<double>(s.max) - m;   // Σ e'·(z − m_new) = r·(Σ e·(z − m_old) − shift·Σ e)
            const double r = std::exp(-shift);
            sum_t = r * (sum_t - shift * sum);
            sum = r * sum;
        }
        m = s.max;
        sum += s.sum;
        sum_t += s.sum_t;
        block_max[b] = s.max;
    }
    const double lse = m + std::log(sum);
    RowOut out;
    const double logp = static_cast<double>(z_target) - lse;
    out.logp = static_cast<float>(logp);
    out.entropy = static_cast<float>(std::log(sum) - sum_t / sum);   // lse − Σ p·z, shifted by m
    out.loss = -weight * logp;
    if (grad) {
        const double coef = weight / denom;
        b = 0;
        for (int64_t v0 = 0; v0 < V; v0 += kBlock, ++b)
            scale_block(z + v0, std::min(kBlock, V - v0), static_cast<float>(coef * std::exp(block_max[b] - lse)));
        z[target] -= static_cast<float>(coef);
    }
    return out;
}

int validate(const float *h, const float *W, const int64_t *y, const float *w, int64_t N, int64_t D, int64_t V,
             double denom, const float *loss_out, int num_threads, int64_t chunk_bytes) {
    if (N < 0 || D < 1 || V < 1)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad sizes N=%lld D=%lld V=%lld", (long long)N, (long long)D,
                        (long long)V);
    // sgemm takes int dimensions and leading dimensions.
    if (D > INT32_MAX || V > INT32_MAX)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "D=%lld or V=%lld exceeds the BLAS int range", (long long)D,
                        (long long)V);
    if (!std::isfinite(denom) || denom == 0.0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "denominator must be finite and nonzero, got %g", denom);
    if (loss_out == nullptr || W == nullptr || (N > 0 && (h == nullptr || y == nullptr || w == nullptr)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "null pointer among h, W, y, w, loss_out");
    if (num_threads < 0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "num_threads must be >= 0, got %d", num_threads);
    const int64_t row_bytes = lp_masked_linear_ce_row_bytes(D, V, LP_F32);
    if (chunk_bytes < 0 || (chunk_bytes > 0 && chunk_bytes < row_bytes))
        return lp::fail(LP_ERR_INVALID_ARGUMENT,
                        "chunk budget of %lld bytes is below the %lld bytes one row needs (D=%lld, V=%lld)",
                        (long long)chunk_bytes, (long long)row_bytes, (long long)D, (long long)V);
    for (int64_t i = 0; i < N; ++i) {
        if (w[i] == 0.0f) continue;
        if (!std::isfinite(w[i]))
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "weight w[%lld] is not finite (%g)", (long long)i, w[i]);
        if (y[i] < 0 || y[i] >= V)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "target y[%lld]=%lld outside [0, %lld)", (long long)i,
                            (long long)y[i], (long long)V);
    }
    return LP_OK;
}

}  // namespace

extern "C" LP_API int lp_blas_num_threads(void) { return openblas_get_num_threads(); }

extern "C" LP_API int lp_blas_set_num_threads(int n) {
    lp::clear_error();
    if (n < 1) return lp::fail(LP_ERR_INVALID_ARGUMENT, "OpenBLAS thread count must be >= 1, got %d", n);
    openblas_set_num_threads(n);
    return LP_OK;
}

extern "C" LP_API int lp_cpu_masked_linear_ce(const float *h, const float *W, const int64_t *y, const float *w,
                                              int64_t N, int64_t D, int64_t V, double denom, float *loss_out,
                                              float *dh, float *dW, float *logp_out, float *entropy_out,
                                              int num_threads, int64_t chunk_bytes) {
    lp::clear_error();
    try {
        int status = validate(h, W, y, w, N, D, V, denom, loss_out, num_threads, chunk_bytes);
        if (status != LP_OK) return status;

        std::vector<int64_t> rows;   // compacted: the rows with w != 0, ascending
        auto rows_idx = [&rows](int64_t k) { return rows[static_cast<size_t>(k)]; };
        for (int64_t i = 0; i < N; ++i)
            if (w[i] != 0.0f) rows.push_back(i);
        // Masked rows get 0 in every per-row output; active rows are overwritten below.
        for (int64_t i = 0; i < N; ++i) {
            if (w[i] != 0.0f) continue;
            if (dh) std::memset(dh + i * D, 0, sizeof(float) * D);
            if (logp_out) logp_out[i] = 0.0f;
            if (entropy_out) entropy_out[i] = 0.0f;
        }
        const int64_t M = static_cast<int64_t>(rows.size());
        if (M == 0) {
            *loss_out = 0.0f;
            return LP_OK;
        }

        const int64_t budget = chunk_bytes > 0 ? chunk_bytes : LP_CPU_CE_DEFAULT_CHUNK_BYTES;
        const int64_t row_bytes = lp_masked_linear_ce_row_bytes(D, V, LP_F32);
        const int64_t max_rows = std::max<int64_t>(1, std::min<int64_t>(M, budget / row_bytes));
        const int64_t chunks = (M + max_rows - 1) / max_rows;
        const int64_t R = (M + chunks - 1) / chunks;   // equal chunks rather than a small last one
        if (R > INT32_MAX) return lp::fail(LP_ERR_INVALID_ARGUMENT, "chunk of %lld rows exceeds the BLAS int range", (long long)R);

        const bool want_grad = dh != nullptr || dW != nullptr;
        std::vector<float> Hc(R * D), Z(R * V), dHc(dh ? R * D : 0);
        std::vector<double> row_loss(M);
        const int threads = num_threads > 0 ? num_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        const int64_t blocks_per_row = (V + kBlock - 1) / kBlock;
        std::vector<float> block_max(static_cast<size_t>(threads) * blocks_per_row);
        lp::engine::ThreadPool pool(threads);
        BlasThreads blas(1);   // every worker runs its own single-threaded GEMMs (see the header comment)
        const int Di = static_cast<int>(D), Vi = static_cast<int>(V);

        for (int64_t c0 = 0; c0 < M; c0 += R) {
            const int64_t r_n = std::min(R, M - c0);
            // Phase A, rows split over the workers: each gathers its rows of h, computes their logits,
            // runs the row pass and computes their dh rows. Rows are independent: no synchronisation.
            const int64_t row_slices = std::min<int64_t>(pool.size(), r_n);
            pool.parallel_for(row_slices, [&](int64_t s, int worker) {
                const int64_t r0 = r_n * s / row_slices, r1 = r_n * (s + 1) / row_slices;
                const int n_rows = static_cast<int>(r1 - r0);
                float *hc = &Hc[r0 * D], *z = &Z[r0 * V];
                for (int64_t r = r0; r < r1; ++r) std::memcpy(&Hc[r * D], h + rows_idx(c0 + r) * D, sizeof(float) * D);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_rows, Vi, Di, 1.0f, hc, Di, W, Di, 0.0f, z, Vi);
                float *scratch = &block_max[static_cast<size_t>(worker) * blocks_per_row];
                for (int64_t r = r0; r < r1; ++r) {
                    const int64_t i = rows_idx(c0 + r);
                    RowOut o = row_pass(&Z[r * V], V, y[i], w[i], denom, want_grad, scratch);
                    row_loss[c0 + r] = o.loss;
                    if (logp_out) logp_out[i] = o.logp;
                    if (entropy_out) entropy_out[i] = o.entropy;
                }
                if (dh) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n_rows, Di, Vi, 1.0f, z, Vi, W, Di, 0.0f,
                                &dHc[r0 * D], Di);
                    for (int64_t r = r0; r < r1; ++r)
                        std::memcpy(dh + rows_idx(c0 + r) * D, &dHc[r * D], sizeof(float) * D);
                }
            });
            // Phase B, vocabulary split over the workers: dW[v0, v1) += G[:, v0:v1]ᵀ · Hc. Each worker
            // owns its rows of dW: no locks, no atomics, and the sum order does not depend on the split.
            if (dW) {
                const int64_t vocab_slices = std::min<int64_t>(pool.size(), V);
                pool.parallel_for(vocab_slices, [&](int64_t s, int) {
                    const int64_t v0 = V * s / vocab_slices, v1 = V * (s + 1) / vocab_slices;
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(v1 - v0), Di,
                                static_cast<int>(r_n), 1.0f, &Z[v0], Vi, Hc.data(), Di, 1.0f, dW + v0 * D, Di);
                });
            }
        }

        double loss = 0.0;
        for (double l : row_loss) loss += l;
        *loss_out = static_cast<float>(loss / denom);
        return LP_OK;
    } catch (const std::bad_alloc &) {
        return lp::fail(LP_ERR_OUT_OF_MEMORY, "out of memory for the chunk buffers (N=%lld, D=%lld, V=%lld, budget %lld bytes)",
                        (long long)N, (long long)D, (long long)V, (long long)chunk_bytes);
    } catch (const std::exception &e) {
        return lp::fail(LP_ERR_INTERNAL, "internal error: %s", e.what());
    }
}
