// The CPU engine's decode GEMM (cpp/src/engine/gemm_nt.cpp) against a float64 reference written here,
// over every edge of its blocking: rows 1..9 (blocks of 4 and the 1..3 left over), weight rows 1..8
// (blocks of 3 and the rest), K with and without a tail past the 8-lane vectors, a bias or none, and
// an output row stride wider than N (a column slice of a wider output, as the engine's threads write).
// Whichever clone the CPU gets (AVX2+FMA or baseline) is the one tested.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "engine/gemm_nt.h"

int main() {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    int failed = 0, cases = 0;
    for (int64_t R = 1; R <= 9; ++R) {
        for (int64_t N = 1; N <= 8; ++N) {
            for (int64_t K : {1, 7, 8, 9, 16, 37, 256}) {
                for (bool bias : {false, true}) {
                    const int64_t ldy = N + 3;
                    std::vector<float> x(R * K), W(N * K), b(N), y(R * ldy, NAN);
                    for (auto &v : x) v = nd(rng);
                    for (auto &v : W) v = nd(rng);
                    for (auto &v : b) v = nd(rng);
                    lp::engine::gemm_nt(x.data(), R, K, W.data(), N, bias ? b.data() : nullptr, y.data(), ldy);
                    ++cases;
                    for (int64_t r = 0; r < R; ++r) {
                        for (int64_t n = 0; n < ldy; ++n) {
                            const float got = y[r * ldy + n];
                            if (n >= N) {   // outside the slice: untouched
                                if (!std::isnan(got)) {
                                    std::printf("FAIL R=%lld N=%lld K=%lld: wrote outside its columns\n", (long long)R,
                                                (long long)N, (long long)K);
                                    ++failed;
                                }
                                continue;
                            }
                            double want = bias ? b[n] : 0.0, mag = std::fabs(want);
                            for (int64_t k = 0; k < K; ++k) {
                                want += double(x[r * K + k]) * W[n * K + k];
                                mag += std::fabs(double(x[r * K + k]) * W[n * K + k]);
                            }
                            // fp32 accumulation of K products: error within a few ulp of the magnitudes summed
                            if (!(std::fabs(got - want) <= 4e-6 * mag + 1e-30)) {
                                std::printf("FAIL R=%lld N=%lld K=%lld bias=%d at (%lld, %lld): got %.9g want %.9g\n",
                                            (long long)R, (long long)N, (long long)K, bias, (long long)r, (long long)n,
                                            got, want);
                                ++failed;
                            }
                        }
                    }
                }
            }
        }
    }
    std::printf("%d cases, %d failures\n", cases, failed);
    return failed == 0 ? 0 : 1;
}
