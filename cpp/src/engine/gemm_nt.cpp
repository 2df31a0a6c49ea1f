#include "engine/gemm_nt.h"

#include "engine/simd.h"

namespace lp::engine {
namespace {

using simd::v8f;

// RB activation rows × NB weight rows, all of K: RB·NB vector accumulators along k, then horizontal sums.
template <int RB, int NB>
LP_INLINE void block(const float *x, int64_t K, const float *W, const float *bias, float *y, int64_t ldy) {
    v8f acc[RB][NB];
    for (int r = 0; r < RB; ++r)
        for (int j = 0; j < NB; ++j) acc[r][j] = v8f{};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        v8f w[NB];
        for (int j = 0; j < NB; ++j) w[j] = simd::load8(W + j * K + k);
        for (int r = 0; r < RB; ++r) {
            const v8f xv = simd::load8(x + r * K + k);
            for (int j = 0; j < NB; ++j) acc[r][j] += xv * w[j];
        }
    }
    for (int r = 0; r < RB; ++r) {
        for (int j = 0; j < NB; ++j) {
            float s = simd::hsum(acc[r][j]);
            for (int64_t t = k; t < K; ++t) s += x[r * K + t] * W[j * K + t];
            y[r * ldy + j] = bias != nullptr ? s + bias[j] : s;
        }
    }
}

template <int NB>
LP_INLINE void rows(const float *x, int64_t R, int64_t K, const float *W, const float *bias, float *y, int64_t ldy) {
    int64_t r = 0;
    for (; r + 4 <= R; r += 4) block<4, NB>(x + r * K, K, W, bias, y + r * ldy, ldy);
    switch (R - r) {
        case 3: block<3, NB>(x + r * K, K, W, bias, y + r * ldy, ldy); break;
        case 2: block<2, NB>(x + r * K, K, W, bias, y + r * ldy, ldy); break;
        case 1: block<1, NB>(x + r * K, K, W, bias, y + r * ldy, ldy); break;
        default: break;
    }
}

}  // namespace

LP_SIMD_CLONES
void gemm_nt(const float *x, int64_t R, int64_t K, const float *W, int64_t N, const float *bias, float *y, int64_t ldy) {
    int64_t n = 0;
    for (; n + 3 <= N; n += 3) rows<3>(x, R, K, W + n * K, bias ? bias + n : nullptr, y + n, ldy);
    if (N - n == 2) rows<2>(x, R, K, W + n * K, bias ? bias + n : nullptr, y + n, ldy);
    if (N - n == 1) rows<1>(x, R, K, W + n * K, bias ? bias + n : nullptr, y + n, ldy);
}

}  // namespace lp::engine
