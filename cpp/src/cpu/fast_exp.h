// A branch-free expf that GCC vectorises (no libm call inside hot loops). Cephes-style range
// reduction exp(x) = 2^n · exp(r), |r| ≤ ln2/2, degree-6 polynomial: max relative error ≈ 2 ulp,
// far below the fp32 GEMM error it sits next to. Inputs below −87.3 flush to 0 (as expf underflows),
// NaN propagates (the comparisons below are false for NaN and the polynomial carries it).
#ifndef LP_CPU_FAST_EXP_H
#define LP_CPU_FAST_EXP_H

#include <cstdint>
#include <cstring>

namespace lp::cpu {

inline float fast_exp(float x) {
    const float lo = -87.33654f, hi = 88.37626f;
    float xc = x < lo ? lo : (x > hi ? hi : x);
    float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
    float r = xc - n * 0.693359375f;      // ln2 split in two parts for an exact product
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    float result = p * scale;
    result = x < lo ? 0.0f : result;
    return x != x ? x : result;
}

}  // namespace lp::cpu

#endif
