// CPU twin of the fused masked linear cross-entropy (contract in linchpin.h).
//
// Plan: compact the rows with w != 0, then split them into row blocks handled by a small thread pool.
// For one block of bm rows a thread
//   1. gathers the rows of h into a packed [bm, D] buffer (masked rows are never read),
//   2. walks the vocabulary in tiles of kVocabTile: one sgemm per tile writes the tile's logits into
//      the block's [bm, V] buffer and an online log-sum-exp (running max, Σexp, Σexp·z for entropy)
//      folds the tile in while it is still in cache,
//   3. turns the buffer in place into G = (w/denom)·(softmax − onehot),
//   4. dh_block = G·W (one sgemm) and dW[tile] += Gᵀ·h_block (one sgemm per vocabulary tile, under
//      that tile's lock, threads starting at different tiles so they rarely meet).
// Why keep the block's logits instead of recomputing them in the backward (as the CUDA kernel does):
// on a CPU the GEMM is the whole cost, so 3 GEMMs instead of 4 is a 25% saving, and a block's
// buffer (bm·V floats, bm chosen to keep it ≤ 16 MiB) is small. Logits for all rows never exist.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "core/error.h"
#include "cpu/fast_exp.h"

namespace {

constexpr int64_t kVocabTile = 2048;
constexpr int64_t kBlockBufferBytes = int64_t(16) << 20;
constexpr int64_t kMaxBlockRows = 128;

struct Problem {
    const float *h, *W;
    const int64_t *y;
    const float *w;
    int64_t N, D, V;
    double denom;
    float *dh, *dW, *logp_out, *entropy_out;
    std::vector<int64_t> rows;     // compacted indices of rows with w != 0
    int64_t block_rows = 0;
    std::vector<double> row_loss;  // per compacted row, summed in order at the end (deterministic)
    std::unique_ptr<std::mutex[]> tile_locks;
    int64_t num_tiles = 0;
};

struct RowStats {
    float max;
    double sum;      // Σ exp(z − max)
    double sum_z;    // Σ exp(z − max) · z
};

// Folds logits z[0, n) of one row into its running statistics.
__attribute__((target_clones("avx512f", "avx2", "default")))
void fold_tile(const float *z, int64_t n, RowStats *s) {
    float tile_max = z[0];
    for (int64_t v = 1; v < n; ++v) tile_max = std::max(tile_max, z[v]);
    float m = std::max(s->max, tile_max);
    float sum = 0.0f, sum_z = 0.0f;
    for (int64_t v = 0; v < n; ++v) {
        float e = lp::cpu::fast_exp(z[v] - m);
        sum += e;
        sum_z += e * z[v];
    }
    double rescale = std::exp(static_cast<double>(s->max) - m);   // 0 on the first tile (max = −inf)
    s->sum = s->sum * rescale + sum;
    s->sum_z = s->sum_z * rescale + sum_z;
    s->max = m;
}

// In place: z ← coef · (exp(z − lse) − onehot(target)).
__attribute__((target_clones("avx512f", "avx2", "default")))
void logits_to_grad(float *z, int64_t n, float lse, float coef) {
    for (int64_t v = 0; v < n; ++v) z[v] = coef * lp::cpu::fast_exp(z[v] - lse);
}

void run_block(Problem &p, int64_t first, int64_t count, float *hb, float *zb, float *dhb, int thread_index) {
    const int64_t D = p.D, V = p.V;
    for (int64_t r = 0; r < count; ++r)
        std::memcpy(hb + r * D, p.h + p.rows[first + r] * D, sizeof(float) * D);

    std::vector<RowStats> stats(count, RowStats{-INFINITY, 0.0, 0.0});
    for (int64_t v0 = 0; v0 < V; v0 += kVocabTile) {
        int64_t nv = std::min(kVocabTile, V - v0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)count, (int)nv, (int)D, 1.0f, hb, (int)D,
                    p.W + v0 * D, (int)D, 0.0f, zb + v0, (int)V);
        for (int64_t r = 0; r < count; ++r) fold_tile(zb + r * V + v0, nv, &stats[r]);
    }

    const bool want_grad = p.dh != nullptr || p.dW != nullptr;
    for (int64_t r = 0; r < count; ++r) {
        int64_t row = p.rows[first + r];
        float *z = zb + r * V;
        double lse = stats[r].max + std::log(stats[r].sum);
        double logp = z[p.y[row]] - lse;
        double weight = p.w[row];
        p.row_loss[first + r] = -weight * logp;
        if (p.logp_out) p.logp_out[row] = static_cast<float>(logp);
        if (p.entropy_out) p.entropy_out[row] = static_cast<float>(lse - stats[r].sum_z / stats[r].sum);
        if (want_grad) {
            float coef = static_cast<float>(weight / p.denom);
            logits_to_grad(z, V, static_cast<float>(lse), coef);
            z[p.y[row]] -= coef;
        }
    }
    if (!want_grad) return;

    if (p.dh != nullptr) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)count, (int)D, (int)V, 1.0f, zb, (int)V,
                    p.W, (int)D, 0.0f, dhb, (int)D);
        for (int64_t r = 0; r < count; ++r)
            std::memcpy(p.dh + p.rows[first + r] * D, dhb + r * D, sizeof(float) * D);
    }
    if (p.dW != nullptr) {
        for (int64_t k = 0; k < p.num_tiles; ++k) {
            int64_t t = (k + thread_index) % p.num_tiles;
            int64_t v0 = t * kVocabTile, nv = std::min(kVocabTile, V - v0);
            std::lock_guard<std::mutex> lock(p.tile_locks[t]);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nv, (int)D, (int)count, 1.0f, zb + v0, (int)V,
                        hb, (int)D, 1.0f, p.dW + v0 * D, (int)D);
        }
    }
}

int validate(const Problem &p, const float *loss_out) {
    if (p.N < 0 || p.D < 1 || p.V < 1)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad sizes N=%lld D=%lld V=%lld", (long long)p.N,
                        (long long)p.D, (long long)p.V);
    // sgemm takes int dimensions and leading dimensions.
    if (p.D > INT32_MAX || p.V > INT32_MAX)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "D=%lld or V=%lld exceeds the BLAS int range", (long long)p.D,
                        (long long)p.V);
    if (!std::isfinite(p.denom) || p.denom == 0.0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "denominator must be finite and nonzero, got %g", p.denom);
    if (loss_out == nullptr || p.W == nullptr || (p.N > 0 && (p.h == nullptr || p.y == nullptr || p.w == nullptr)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "null pointer among h, W, y, w, loss_out");
    for (int64_t i = 0; i < p.N; ++i) {
        if (p.w[i] == 0.0f) continue;
        if (!std::isfinite(p.w[i]))
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "weight w[%lld] is not finite (%g)", (long long)i, p.w[i]);
        if (p.y[i] < 0 || p.y[i] >= p.V)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "target y[%lld]=%lld outside [0, %lld)", (long long)i,
                            (long long)p.y[i], (long long)p.V);
    }
    return LP_OK;
}

}  // namespace

extern "C" LP_API int lp_cpu_masked_linear_ce(const float *h, const float *W, const int64_t *y, const float *w,
                                              int64_t N, int64_t D, int64_t V, double denom, float *loss_out,
                                              float *dh, float *dW, float *logp_out, float *entropy_out,
                                              int num_threads) {
    lp::clear_error();
    try {
        Problem p{h, W, y, w, N, D, V, denom, dh, dW, logp_out, entropy_out, {}, 0, {}, nullptr, 0};
        int status = validate(p, loss_out);
        if (status != LP_OK) return status;

        for (int64_t i = 0; i < N; ++i)
            if (w[i] != 0.0f) p.rows.push_back(i);
        if (dh) std::memset(dh, 0, sizeof(float) * N * D);
        if (logp_out) std::memset(logp_out, 0, sizeof(float) * N);
        if (entropy_out) std::memset(entropy_out, 0, sizeof(float) * N);
        const int64_t M = static_cast<int64_t>(p.rows.size());
        if (M == 0) {
            *loss_out = 0.0f;
            return LP_OK;
        }

        int threads = num_threads > 0 ? num_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        // A multi-threaded OpenBLAS already spreads each GEMM over the cores; our own workers on top
        // would oversubscribe them (measured: 2x slower on 2 cores), so then one worker drives it.
        if (openblas_get_num_threads() > 1) threads = 1;
        int64_t by_memory = std::max<int64_t>(1, kBlockBufferBytes / (V * (int64_t)sizeof(float)));
        int64_t by_balance = (M + threads - 1) / threads;   // at least one block per thread when rows are few
        p.block_rows = std::max<int64_t>(1, std::min({kMaxBlockRows, by_memory, by_balance}));
        int64_t num_blocks = (M + p.block_rows - 1) / p.block_rows;
        threads = static_cast<int>(std::min<int64_t>(threads, num_blocks));
        p.row_loss.assign(M, 0.0);
        p.num_tiles = (V + kVocabTile - 1) / kVocabTile;
        p.tile_locks.reset(new std::mutex[p.num_tiles]);

        std::atomic<int64_t> next_block{0};
        std::atomic<bool> out_of_memory{false};
        auto worker = [&](int thread_index) {
            try {
                std::vector<float> hb(p.block_rows * D), zb(p.block_rows * V), dhb(dh ? p.block_rows * D : 0);
                for (int64_t b; (b = next_block.fetch_add(1)) < num_blocks;) {
                    int64_t first = b * p.block_rows;
                    run_block(p, first, std::min(p.block_rows, M - first), hb.data(), zb.data(), dhb.data(),
                              thread_index);
                }
            } catch (const std::bad_alloc &) {
                out_of_memory = true;
            }
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
        worker(0);
        for (auto &t : pool) t.join();
        if (out_of_memory)
            return lp::fail(LP_ERR_OUT_OF_MEMORY, "out of memory for %lld-row blocks of %lld logits",
                            (long long)p.block_rows, (long long)V);

        double loss = 0.0;
        for (double l : p.row_loss) loss += l;
        *loss_out = static_cast<float>(loss / denom);
        return LP_OK;
    } catch (const std::bad_alloc &) {
        return lp::fail(LP_ERR_OUT_OF_MEMORY, "out of memory (N=%lld, V=%lld)", (long long)N, (long long)V);
    } catch (const std::exception &e) {
        return lp::fail(LP_ERR_INTERNAL, "internal error: %s", e.what());
    }
}
