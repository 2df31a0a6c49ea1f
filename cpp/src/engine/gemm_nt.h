// The CPU engine's GEMM for decode shapes: y[r, n] = Σ_k x[r, k] · W[n, k] for a few rows r (the
// active branches of a decode step) against a row-major weight W [N, K], fp32 with fp32 accumulation.
//
// Why not OpenBLAS here: sgemm packs the whole weight matrix into its panel layout on every call, so
// with a few dozen rows the packing (a full read and write of W) costs as much as the multiply, and a
// decode step of a large model is bound by reading W once. This kernel reads W in place, once: a
// block of 3 weight rows stays in L1 while it meets every activation row in blocks of 4 (12 vector
// accumulators of 8 lanes along k, summed at the end). Prefill-sized row counts still go to OpenBLAS.
#ifndef LP_ENGINE_GEMM_NT_H
#define LP_ENGINE_GEMM_NT_H

#include <cstdint>

namespace lp::engine {

// y[r * ldy + n] = Σ_k x[r * K + k] · W[n * K + k] (+ bias[n] when bias is not null) for r in [0, R),
// n in [0, N). x, W and y must not overlap.
void gemm_nt(const float *x, int64_t R, int64_t K, const float *W, int64_t N, const float *bias, float *y, int64_t ldy);

}  // namespace lp::engine

#endif
