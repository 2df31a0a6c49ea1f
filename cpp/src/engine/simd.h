// What the engine's hot CPU loops share: LP_SIMD_CLONES compiles a function twice, for x86-64-v3
// (AVX2 + FMA: every x86 server since 2013) and for baseline x86-64, and picks the clone once at load
// time (GCC's target_clones; ifunc), so the library stays runnable on any x86-64 while the loops use
// 256-bit vectors where the CPU has them. Loops are written with GCC vector extensions (v8f) rather
// than intrinsics so both clones compile from the same code.
#ifndef LP_ENGINE_SIMD_H
#define LP_ENGINE_SIMD_H

#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LP_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LP_SIMD_CLONES
#endif
#define LP_INLINE inline __attribute__((always_inline))
// The vector helpers below are always inlined, so the baseline clone's "AVX vector return without
// AVX" ABI note never applies to a real call.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace lp::engine::simd {

typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4)));   // unaligned loads and stores

LP_INLINE v8f load8(const float *p) { return *reinterpret_cast<const v8f_u *>(p); }
LP_INLINE void store8(float *p, v8f v) { *reinterpret_cast<v8f_u *>(p) = v; }
LP_INLINE float hsum(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

}  // namespace lp::engine::simd

#endif
