/*
 * Native test of the CUDA fused masked linear cross-entropy against its CPU twin, through the public
 * ABI only (linchpin.h: lp_cuda_load, lp_cuda_masked_linear_ce, lp_cpu_masked_linear_ce, ...).
 * Linked against liblinchpin.so and the CUDA runtime; liblinchpin.so dlopens liblinchpin_cuda.so.
 *
 * Exit codes: 0 all passed, 1 a case failed, 2 a CUDA runtime call of the test itself failed,
 * 77 skipped (no usable CUDA backend: ctest SKIP_RETURN_CODE).
 *
 * Tolerances (error test per element: |got - ref| <= atol + rtol * |ref|, atol = arel * max|ref|;
 * written as !(err <= tol) so a NaN never passes):
 *   f32:        rtol 1e-4, arel 1e-5 everywhere. Both sides accumulate fp32 products of the same fp32
 *               values; only the summation order differs (~sqrt(D) * 2^-24 relative per logit, and for
 *               dh/dW ~2^-24 of the sum of |terms| <= 2 * max|term| since softmax - onehot has an L1 norm
 *               <= 2), far below 1e-5 of the array's largest magnitude.
 *   bf16/f16:   the reference is the fp32 CPU twin fed the very values the GPU sees (inputs rounded to
 *               the dtype and widened back), so the products are identical and exact in fp32.
 *     forward (loss, logp, entropy): rtol 1e-3, arel 1e-4. Only the tensor-core fp32 accumulation
 *               differs (order, and the MMA unit's internal alignment/rounding of partial sums), which
 *               is ~1e-6 relative; 1e-3 is a deliberate wide margin that still catches any real bug
 *               (wrong row, wrong tile, missing split: errors of order 1).
 *     backward (dh, dW increments): the backward GEMMs (cuBLAS) read G = s(w/denom)(softmax - onehot)
 *               in the input dtype, as PyTorch's autograd does for 16-bit logits (s a power of two,
 *               undone exactly by alpha). Rounding G costs a relative 2^-11 per element in fp16 and
 *               2^-9 in bf16. The error of a sum is bounded by that times sum|terms|, and sum|terms|
 *               <= ~2 * max|term| per dh row (L1 norm of softmax - onehot <= 2): ~1e-3 (fp16) and
 *               ~4e-3 (bf16) of the array's largest magnitude. fp16: rtol 1e-2, arel 4e-3; bf16:
 *               rtol 2e-2, arel 1.6e-2 (4x margins); a real bug (wrong row, chunk or scale) is of order 1.
 * Rows with w == 0 must give dh == 0, logp == 0 and entropy == 0 exactly.
 *
 * Chunking: cases with budgets of 1, 3 and 100 rows run the multi-chunk path against the same twin.
 * Seeds: a fresh base seed per run, printed; LINCHPIN_TEST_SEED=<seed> replays it.
 * `test_masked_ce_cuda --expect-no-cublas` (ctest masked_ce_cuda_no_cublas, run with
 * LINCHPIN_CUBLAS_LIB pointing nowhere) checks that a missing cuBLAS is a clear LP_ERR_UNAVAILABLE.
 */
#include "linchpin.h"
#include "cuda_test_support.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>


namespace {

enum WeightMode { W_POS, W_SIGNED, W_ONES };
const char *weight_mode_name(WeightMode m) {
    switch (m) {
        case W_POS: return "pos";
        case W_SIGNED: return "signed";
        default: return "ones";
    }
}
const char *dtype_name(int dt) { return dt == LP_F32 ? "f32" : dt == LP_BF16 ? "bf16" : "f16"; }

struct Case {
    int64_t N, D, V;
    double density;
    WeightMode wmode;
    int dtype;
    bool with_dh = true, with_dW = true, with_logp = true, with_entropy = true;
    bool default_stream = false; /* use the legacy default stream (NULL) instead of a created one */
    bool denom_is_count = true;  /* denom = #selected rows (>= 1), else a fixed 3.7 */
    int64_t chunk_rows = 0;      /* > 0: a chunk budget of exactly that many rows; 0: the default */
    uint64_t seed = 1;
};

uint16_t to_bits16(float x, int dt) {
    if (dt == LP_BF16) {
        const __nv_bfloat16_raw r = __float2bfloat16_rn(x);
        return r.x;
    }
    const __half_raw r = __float2half_rn(x);
    return r.x;
}
float from_bits16(uint16_t bits, int dt) {
    if (dt == LP_BF16) {
        __nv_bfloat16_raw r;
        r.x = bits;
        return __bfloat162float(__nv_bfloat16(r));
    }
    __half_raw r;
    r.x = bits;
    return __half2float(__half(r));
}

/* Element-wise comparison; returns true if all pass, fills worst = max err/tol. */
struct CmpResult {
    bool ok = true;
    double worst = 0.0; /* max over elements of err / tol */
    int64_t bad = -1;
    double bad_got = 0, bad_ref = 0;
};

CmpResult compare(const std::vector<double> &got, const std::vector<double> &ref, double rtol, double arel,
                  double extra_atol = 0.0) {
    CmpResult r;
    double scale = 0.0;
    for (double v : ref)
        if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
    const double atol = arel * scale + extra_atol + 1e-30;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double err = std::fabs(got[i] - ref[i]);
        const double tol = atol + rtol * std::fabs(ref[i]);
        const double q = err / tol;
        if (!(err <= tol)) { /* NaN in got or ref fails here */
            if (r.ok) {
                r.bad = static_cast<int64_t>(i);
                r.bad_got = got[i];
                r.bad_ref = ref[i];
            }
            r.ok = false;
            r.worst = std::isfinite(q) ? std::max(r.worst, q) : std::numeric_limits<double>::infinity();
        } else {
            r.worst = std::max(r.worst, q);
        }
    }
    return r;
}

void poison(void *p, size_t bytes) { CK(cudaMemset(p, 0xFF, bytes)); } /* 0xFFFFFFFF is a NaN */

struct Outcome {
    bool ok = true;
    std::string detail;
    void fail(const std::string &what) {
        ok = false;
        if (!detail.empty()) detail += "; ";
        detail += what;
    }
};

std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

void check_array(Outcome &out, std::string &summary, const char *name, const std::vector<double> &got,
                 const std::vector<double> &ref, double rtol, double arel, double extra_atol = 0.0) {
    const CmpResult c = compare(got, ref, rtol, arel, extra_atol);
    summary += fmt(" %s %.2g", name, c.worst);
    if (!c.ok)
        out.fail(fmt("%s[%" PRId64 "] got %.9g ref %.9g", name, c.bad, c.bad_got, c.bad_ref));
}

Outcome run_case(const Case &cs, cudaStream_t created_stream, std::string &summary) {
    Outcome out;
    const int64_t N = cs.N, D = cs.D, V = cs.V;
    const int dt = cs.dtype;
    std::mt19937_64 rng(cs.seed);
    std::uniform_real_distribution<float> u11(-1.f, 1.f), u01(0.f, 1.f);

    /* ---- inputs ---- */
    std::vector<float> h(size_t(N * D)), W(size_t(V * D)), w(static_cast<size_t>(N));
    std::vector<int64_t> y(static_cast<size_t>(N));
    const float wscale = 2.0f * std::sqrt(3.0f / float(D)); /* logits ~ N(0, 2^2) */
    for (auto &x : h) x = u11(rng);
    for (auto &x : W) x = u11(rng) * wscale;
    int64_t selected = 0;
    std::vector<char> sel(size_t(N), 0);
    for (int64_t i = 0; i < N; ++i) {
        const bool on = u01(rng) < cs.density;
        sel[size_t(i)] = on;
        if (on) {
            ++selected;
            float v = 1.f;
            if (cs.wmode == W_POS) v = 0.1f + 1.9f * u01(rng);
            if (cs.wmode == W_SIGNED) {
                v = u11(rng);
                if (v == 0.f) v = 0.5f;
            }
            w[size_t(i)] = v;
            y[size_t(i)] = std::uniform_int_distribution<int64_t>(0, V - 1)(rng);
        } else {
            w[size_t(i)] = 0.f;
            /* garbage targets and NaN/Inf activations in rows that must be selected out */
            const int k = int(rng() % 6);
            const int64_t garbage[] = {-1, -12345, V, V + 1000, std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
            y[size_t(i)] = (rng() % 2) ? garbage[k] : std::uniform_int_distribution<int64_t>(0, V - 1)(rng);
            const int p = int(rng() % 4);
            float *row = h.data() + size_t(i * D);
            if (p == 0) std::fill(row, row + D, std::numeric_limits<float>::quiet_NaN());
            if (p == 1) row[rng() % uint64_t(D)] = std::numeric_limits<float>::infinity();
            if (p == 2) row[rng() % uint64_t(D)] = -std::numeric_limits<float>::infinity();
        }
    }
    const double denom = cs.denom_is_count ? double(std::max<int64_t>(selected, 1)) : 3.7;

    /* device representation + the exact values it holds, as float, for the reference */
    const size_t esz = dt == LP_F32 ? 4 : 2;
    std::vector<uint16_t> h16, W16;
    if (dt != LP_F32) {
        h16.resize(h.size());
        W16.resize(W.size());
        for (size_t i = 0; i < h.size(); ++i) {
            h16[i] = to_bits16(h[i], dt);
            h[i] = from_bits16(h16[i], dt);
        }
        for (size_t i = 0; i < W.size(); ++i) {
            W16[i] = to_bits16(W[i], dt);
            W[i] = from_bits16(W16[i], dt);
        }
    }
    std::vector<float> dW0(W.size());
    for (auto &x : dW0) x = 1e-3f * u11(rng);

    /* ---- reference (CPU twin, fp32) ---- */
    float loss_ref = 0.f;
    std::vector<float> dh_ref(h.size()), dW_ref(dW0), logp_ref(static_cast<size_t>(N)), ent_ref(static_cast<size_t>(N));
    const int rc_ref = lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), N, D, V, denom, &loss_ref,
                                               dh_ref.data(), dW_ref.data(), logp_ref.data(), ent_ref.data(), 0, 0);
    if (rc_ref != LP_OK) {
        out.fail(fmt("CPU twin failed: %d %s", rc_ref, lp_last_error()));
        return out;
    }

    /* ---- device buffers ---- */
    void *d_h = nullptr, *d_W = nullptr, *d_ws = nullptr;
    int64_t *d_y = nullptr;
    float *d_w = nullptr, *d_loss = nullptr, *d_dh = nullptr, *d_dW = nullptr, *d_logp = nullptr, *d_ent = nullptr;
    CK(cudaMalloc(&d_h, h.size() * esz));
    CK(cudaMalloc(&d_W, W.size() * esz));
    CK(cudaMalloc(&d_y, y.size() * sizeof(int64_t)));
    CK(cudaMalloc(&d_w, w.size() * sizeof(float)));
    CK(cudaMalloc(&d_loss, sizeof(float)));
    if (dt == LP_F32) {
        CK(cudaMemcpy(d_h, h.data(), h.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(d_W, W.data(), W.size() * 4, cudaMemcpyHostToDevice));
    } else {
        CK(cudaMemcpy(d_h, h16.data(), h16.size() * 2, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(d_W, W16.data(), W16.size() * 2, cudaMemcpyHostToDevice));
    }
    CK(cudaMemcpy(d_y, y.data(), y.size() * sizeof(int64_t), cudaMemcpyHostToDevice));
    CK(cudaMemcpy(d_w, w.data(), w.size() * sizeof(float), cudaMemcpyHostToDevice));
    if (cs.with_dh) CK(cudaMalloc(&d_dh, h.size() * sizeof(float)));
    if (cs.with_dW) {
        CK(cudaMalloc(&d_dW, W.size() * sizeof(float)));
        CK(cudaMemcpy(d_dW, dW0.data(), W.size() * sizeof(float), cudaMemcpyHostToDevice));
    }
    if (cs.with_logp) CK(cudaMalloc(&d_logp, size_t(N) * sizeof(float)));
    if (cs.with_entropy) CK(cudaMalloc(&d_ent, size_t(N) * sizeof(float)));

    const int64_t chunk = cs.chunk_rows * lp_masked_linear_ce_row_bytes(D, V, dt);
    const int64_t ws_bytes = lp_cuda_masked_linear_ce_workspace_size(N, D, V, dt, chunk);
    if (ws_bytes < 0) {
        out.fail(fmt("workspace_size returned %" PRId64 ": %s", ws_bytes, lp_last_error()));
        return out;
    }
    if (lp_cuda_masked_linear_ce_workspace_size(N, D, V, dt, chunk) != ws_bytes) out.fail("workspace_size not pure");
    CK(cudaMalloc(&d_ws, size_t(std::max<int64_t>(ws_bytes, 1))));
    cudaStream_t stream = cs.default_stream ? nullptr : created_stream;

    auto poison_outputs = [&]() {
        poison(d_loss, sizeof(float));
        if (d_dh) poison(d_dh, h.size() * sizeof(float));
        if (d_logp) poison(d_logp, size_t(N) * sizeof(float));
        if (d_ent) poison(d_ent, size_t(N) * sizeof(float));
        poison(d_ws, size_t(std::max<int64_t>(ws_bytes, 1))); /* catches reads of uninitialised workspace */
    };

    /* a too-small workspace must be refused */
    if (ws_bytes > 0) {
        const int rc_small = lp_cuda_masked_linear_ce(d_h, d_W, dt, d_y, d_w, N, D, V, denom, d_loss, d_dh, d_dW,
                                                      d_logp, d_ent, d_ws, ws_bytes - 1, chunk, stream);
        if (rc_small != LP_ERR_INVALID_ARGUMENT)
            out.fail(fmt("workspace of %" PRId64 " - 1 bytes gave status %d, expected %d", ws_bytes, rc_small,
                         int(LP_ERR_INVALID_ARGUMENT)));
        CK(cudaDeviceSynchronize()); /* (nothing may have been enqueued; make sure before poisoning) */
    }

    /* ---- run ---- */
    poison_outputs();
    CK(cudaDeviceSynchronize());
    const int rc = lp_cuda_masked_linear_ce(d_h, d_W, dt, d_y, d_w, N, D, V, denom, d_loss, d_dh, d_dW, d_logp,
                                            d_ent, d_ws, ws_bytes, chunk, stream);
    if (rc != LP_OK) {
        out.fail(fmt("lp_cuda_masked_linear_ce returned %d: %s", rc, lp_last_error()));
    } else {
        CK(cudaStreamSynchronize(stream));
        CK(cudaGetLastError());
        float loss = 0.f;
        std::vector<float> dh(d_dh ? h.size() : 0), dW(d_dW ? W.size() : 0), logp(d_logp ? size_t(N) : 0),
            ent(d_ent ? size_t(N) : 0);
        CK(cudaMemcpy(&loss, d_loss, sizeof(float), cudaMemcpyDeviceToHost));
        if (d_dh) CK(cudaMemcpy(dh.data(), d_dh, dh.size() * 4, cudaMemcpyDeviceToHost));
        if (d_dW) CK(cudaMemcpy(dW.data(), d_dW, dW.size() * 4, cudaMemcpyDeviceToHost));
        if (d_logp) CK(cudaMemcpy(logp.data(), d_logp, logp.size() * 4, cudaMemcpyDeviceToHost));
        if (d_ent) CK(cudaMemcpy(ent.data(), d_ent, ent.size() * 4, cudaMemcpyDeviceToHost));

        const bool f32 = dt == LP_F32;
        const double f_rtol = f32 ? 1e-4 : 1e-3, f_arel = f32 ? 1e-5 : 1e-4;
        const double b_rtol = f32 ? 1e-4 : dt == LP_F16 ? 1e-2 : 2e-2;
        const double b_arel = f32 ? 1e-5 : dt == LP_F16 ? 4e-3 : 1.6e-2;
        /* absolute floors for arrays whose scale is ~0 (V = 1 gives logp = entropy = dh = dW = 0) */
        const double f_floor = 1e-6, b_floor = 1e-12;

        /* loss: scale the absolute tolerance by sum |w_i logp_i| / denom (signed weights can cancel) */
        double abs_loss = 0.0;
        for (int64_t i = 0; i < N; ++i)
            if (sel[size_t(i)]) abs_loss += std::fabs(double(w[size_t(i)]) * double(logp_ref[size_t(i)])) / denom;
        {
            const double err = std::fabs(double(loss) - double(loss_ref));
            const double tol = f_rtol * std::fabs(double(loss_ref)) + f_arel * abs_loss + f_floor;
            summary += fmt(" loss %.2g", err / tol);
            if (!(err <= tol)) out.fail(fmt("loss got %.9g ref %.9g", double(loss), double(loss_ref)));
        }
        auto masked_zero = [&](const std::vector<float> &a, int64_t per_row, const char *name) {
            for (int64_t i = 0; i < N; ++i) {
                if (sel[size_t(i)]) continue;
                for (int64_t k = 0; k < per_row; ++k) {
                    if (!(a[size_t(i * per_row + k)] == 0.f)) {
                        out.fail(fmt("%s of masked row %" PRId64 " is %g, not 0", name, i,
                                     double(a[size_t(i * per_row + k)])));
                        return;
                    }
                }
            }
        };
        auto widen = [](const std::vector<float> &a) { return std::vector<double>(a.begin(), a.end()); };
        if (d_logp) {
            masked_zero(logp, 1, "logp");
            check_array(out, summary, "logp", widen(logp), widen(logp_ref), f_rtol, f_arel, f_floor);
        }
        if (d_ent) {
            masked_zero(ent, 1, "entropy");
            check_array(out, summary, "ent", widen(ent), widen(ent_ref), f_rtol, f_arel, f_floor);
        }
        if (d_dh) {
            masked_zero(dh, D, "dh");
            check_array(out, summary, "dh", widen(dh), widen(dh_ref), b_rtol, b_arel, b_floor);
        }
        if (d_dW) { /* compare the increments; the subtraction itself costs <= 2^-24 |dW0| */
            std::vector<double> inc(dW.size()), inc_ref(dW.size());
            double max0 = 0.0;
            for (size_t k = 0; k < dW.size(); ++k) {
                inc[k] = double(dW[k]) - double(dW0[k]);
                inc_ref[k] = double(dW_ref[k]) - double(dW0[k]);
                max0 = std::max(max0, std::fabs(double(dW0[k])));
            }
            check_array(out, summary, "dW", inc, inc_ref, b_rtol, b_arel, b_floor + 4.0 * 0x1p-24 * max0);

            /* LP_DW_STORE: the same gradient in the input dtype, overwriting a poisoned buffer (NaN bits), so
             * every element must be written, also when no row is selected. With several chunks the
             * partial sums are added in that dtype: one rounding (<= 1 ulp of the scale) per chunk. */
            void *d_dWs = nullptr;
            CK(cudaMalloc(&d_dWs, W.size() * esz));
            poison(d_dWs, W.size() * esz);
            CK(cudaDeviceSynchronize());
            const int rc3 = lp_cuda_masked_linear_ce_ex(d_h, d_W, dt, d_y, d_w, N, D, V, denom, d_loss, nullptr, d_dWs,
                                                        LP_DW_STORE, nullptr, nullptr, d_ws, ws_bytes, chunk, stream);
            if (rc3 != LP_OK) {
                out.fail(fmt("LP_DW_STORE run returned %d: %s", rc3, lp_last_error()));
            } else {
                CK(cudaStreamSynchronize(stream));
                std::vector<double> stored(W.size());
                if (dt == LP_F32) {
                    std::vector<float> tmp(W.size());
                    CK(cudaMemcpy(tmp.data(), d_dWs, tmp.size() * 4, cudaMemcpyDeviceToHost));
                    for (size_t k = 0; k < tmp.size(); ++k) stored[k] = tmp[k];
                } else {
                    std::vector<uint16_t> tmp(W.size());
                    CK(cudaMemcpy(tmp.data(), d_dWs, tmp.size() * 2, cudaMemcpyDeviceToHost));
                    for (size_t k = 0; k < tmp.size(); ++k) stored[k] = from_bits16(tmp[k], dt);
                }
                const int64_t chunks =
                    cs.chunk_rows > 0 ? std::max<int64_t>(1, (selected + cs.chunk_rows - 1) / cs.chunk_rows) : 1;
                const double ulp = dt == LP_F32 ? 0x1p-23 : dt == LP_BF16 ? 0x1p-7 : 0x1p-10;
                double scale = 0.0;
                for (double v : inc_ref) scale = std::max(scale, std::fabs(v));
                check_array(out, summary, "dW_store", stored, inc_ref, b_rtol, b_arel,
                            b_floor + 4.0 * 0x1p-24 * max0 + double(chunks) * ulp * scale);
            }
            CK(cudaFree(d_dWs));
        }

        /* determinism of the forward: a second run gives bitwise the same loss / logp / entropy */
        if (out.ok) {
            poison_outputs();
            CK(cudaDeviceSynchronize());
            const int rc2 = lp_cuda_masked_linear_ce(d_h, d_W, dt, d_y, d_w, N, D, V, denom, d_loss, nullptr,
                                                     nullptr, d_logp, d_ent, d_ws, ws_bytes, chunk, stream);
            if (rc2 != LP_OK) {
                out.fail(fmt("second run returned %d: %s", rc2, lp_last_error()));
            } else {
                CK(cudaStreamSynchronize(stream));
                float loss2 = 0.f;
                CK(cudaMemcpy(&loss2, d_loss, sizeof(float), cudaMemcpyDeviceToHost));
                if (std::memcmp(&loss, &loss2, sizeof(float)) != 0)
                    out.fail(fmt("loss not deterministic: %.9g vs %.9g", double(loss), double(loss2)));
                if (d_logp) {
                    std::vector<float> logp2(static_cast<size_t>(N));
                    CK(cudaMemcpy(logp2.data(), d_logp, logp2.size() * 4, cudaMemcpyDeviceToHost));
                    if (std::memcmp(logp.data(), logp2.data(), logp.size() * 4) != 0) out.fail("logp not deterministic");
                }
            }
        }
    }
    summary = fmt(" sel=%" PRId64, selected) + summary;

    CK(cudaFree(d_h));
    CK(cudaFree(d_W));
    CK(cudaFree(d_y));
    CK(cudaFree(d_w));
    CK(cudaFree(d_loss));
    CK(cudaFree(d_ws));
    if (d_dh) CK(cudaFree(d_dh));
    if (d_dW) CK(cudaFree(d_dW));
    if (d_logp) CK(cudaFree(d_logp));
    if (d_ent) CK(cudaFree(d_ent));
    return out;
}

/* With cuBLAS out of reach the call must fail with LP_ERR_UNAVAILABLE and say what it looked for. */
int expect_no_cublas() {
    const char *env = std::getenv("LINCHPIN_CUBLAS_LIB");
    const int64_t N = 4, D = 8, V = 16;
    const int64_t ws_bytes = lp_cuda_masked_linear_ce_workspace_size(N, D, V, LP_F32, 0);
    void *d_h = nullptr, *d_W = nullptr, *d_ws = nullptr;
    int64_t *d_y = nullptr;
    float *d_w = nullptr, *d_loss = nullptr;
    CK(cudaMalloc(&d_h, N * D * 4));
    CK(cudaMalloc(&d_W, V * D * 4));
    CK(cudaMalloc(&d_y, N * 8));
    CK(cudaMalloc(&d_w, N * 4));
    CK(cudaMalloc(&d_loss, 4));
    CK(cudaMalloc(&d_ws, size_t(ws_bytes)));
    CK(cudaMemset(d_y, 0, N * 8));
    CK(cudaMemset(d_w, 0, N * 4));
    const int rc = lp_cuda_masked_linear_ce(d_h, d_W, LP_F32, d_y, d_w, N, D, V, 1.0, d_loss, nullptr, nullptr,
                                            nullptr, nullptr, d_ws, ws_bytes, 0, nullptr);
    const std::string msg = lp_last_error();
    const bool ok = rc == LP_ERR_UNAVAILABLE && msg.find("cuBLAS") != std::string::npos && env != nullptr &&
                    msg.find(env) != std::string::npos;
    std::printf("%s  without cuBLAS (LINCHPIN_CUBLAS_LIB=%s): status %d, message: %s\n", ok ? "PASS" : "FAIL",
                env ? env : "(unset)", rc, msg.c_str());
    CK(cudaFree(d_h));
    CK(cudaFree(d_W));
    CK(cudaFree(d_y));
    CK(cudaFree(d_w));
    CK(cudaFree(d_loss));
    CK(cudaFree(d_ws));
    std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
    if (const int skip_or_fail = lp_test_load_cuda_or_skip(); skip_or_fail >= 0) return skip_or_fail;
    if (argc > 1 && std::strcmp(argv[1], "--expect-no-cublas") == 0) return expect_no_cublas();
    int passed = 0, failed = 0;
    if (!lp_cuda_is_loaded() || lp_cuda_device_count() < 1) {
        std::printf("FAIL: backend loaded but is_loaded=%d device_count=%d\n", lp_cuda_is_loaded(),
                    lp_cuda_device_count());
        ++failed;
    }

    struct Shape {
        int64_t N, D, V;
        double density;
    };
    const Shape shapes[] = {
        {1, 16, 10, 1.0},        /* N = 1 */
        {1, 7, 1, 1.0},          /* V = 1: logp = 0, G = 0 */
        {3, 5, 3, 1.0},          /* tiny, D odd */
        {37, 33, 1000, 1.0},     /* D odd: scalar loads; V not a multiple of any tile */
        {64, 64, 128, 1.0},      /* exact tiles */
        {65, 24, 129, 1.0},      /* one past the tiles; D % 8 == 0 but not % 16 */
        {200, 72, 3001, 0.12},   /* CFT-like density, several vocabulary tiles and splits */
        {513, 128, 2053, 0.12},
        {300, 40, 20011, 0.01},  /* 1% density, 20 splits */
        {1000, 256, 5000, 0.01},
        {2000, 48, 1500, 0.12},  /* many row tiles per backward block */
        {64, 4096, 777, 0.12},   /* large D: K-loop / D-chunking */
        {96, 4100, 300, 1.0},    /* large D, not a multiple of 8 */
        {100, 96, 70001, 0.05},  /* more than 64 * 1024 columns: split count capped */
        {50, 32, 100, 0.0},      /* all weights zero */
    };
    const int dtypes[] = {LP_F32, LP_BF16, LP_F16};
    std::vector<Case> cases;
    const char *seed_env = std::getenv("LINCHPIN_TEST_SEED");
    uint64_t seed = seed_env != nullptr && seed_env[0] != '\0' ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
    std::printf("seed %" PRIu64 " (replay with LINCHPIN_TEST_SEED=%" PRIu64 ")\n", seed, seed);
    int k = 0;
    for (int dt : dtypes) {
        for (const Shape &s : shapes) {
            Case c;
            c.N = s.N;
            c.D = s.D;
            c.V = s.V;
            c.density = s.density;
            c.dtype = dt;
            c.wmode = WeightMode(k % 3);
            c.denom_is_count = (k % 4) != 3;
            c.seed = seed++;
            cases.push_back(c);
            ++k;
        }
        /* optional outputs absent, and the legacy default stream */
        Case c;
        c.N = 300;
        c.D = 64;
        c.V = 1100;
        c.density = 0.3;
        c.dtype = dt;
        c.wmode = W_SIGNED;
        c.seed = seed++;
        c.with_dh = false;
        cases.push_back(c);
        c.with_dh = true;
        c.with_dW = false;
        c.seed = seed++;
        cases.push_back(c);
        c.with_dW = true;
        c.with_logp = false;
        c.with_entropy = false;
        c.seed = seed++;
        cases.push_back(c);
        c.with_logp = c.with_entropy = true;
        c.with_dh = c.with_dW = false;
        c.default_stream = true;
        c.seed = seed++;
        cases.push_back(c);
        /* chunk budgets of 1, 3 and 100 rows: many chunks, a short last one */
        for (int64_t rows : {1, 3, 100}) {
            Case k;
            k.N = 513;
            k.D = 72;
            k.V = 3001;
            k.density = rows == 1 ? 0.05 : 0.5;
            k.dtype = dt;
            k.wmode = W_SIGNED;
            k.chunk_rows = rows;
            k.seed = seed++;
            cases.push_back(k);
        }
    }

    cudaStream_t stream = nullptr;
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

    /* an unknown dtype must be refused */
    {
        const int rc = lp_cuda_masked_linear_ce(nullptr, nullptr, 7, nullptr, nullptr, 4, 4, 4, 1.0, nullptr, nullptr,
                                                nullptr, nullptr, nullptr, nullptr, 0, 0, stream);
        if (rc == LP_OK) {
            std::printf("FAIL  dtype=7 was accepted\n");
            ++failed;
        } else {
            std::printf("PASS  dtype=7 refused (%d: %s)\n", rc, lp_last_error());
            ++passed;
        }
    }

    /* an unknown dW mode must be refused, naming it */
    {
        const int rc = lp_cuda_masked_linear_ce_ex(reinterpret_cast<void *>(16), reinterpret_cast<void *>(16), LP_BF16,
                                                   reinterpret_cast<int64_t *>(16), reinterpret_cast<float *>(16), 10,
                                                   64, 1000, 1.0, reinterpret_cast<float *>(16), nullptr,
                                                   reinterpret_cast<void *>(16), 5, nullptr, nullptr, nullptr, 0, 0,
                                                   stream);
        const bool ok = rc == LP_ERR_INVALID_ARGUMENT && std::strstr(lp_last_error(), "dW mode 5") != nullptr;
        std::printf("%s  dW mode 5 refused (%d: %s)\n", ok ? "PASS" : "FAIL", rc, lp_last_error());
        (ok ? passed : failed)++;
    }

    /* a chunk budget below one row must be refused, by the size query and by the call */
    {
        const int64_t row = lp_masked_linear_ce_row_bytes(64, 1000, LP_BF16);
        const int64_t ws = lp_cuda_masked_linear_ce_workspace_size(10, 64, 1000, LP_BF16, row - 1);
        const int rc = lp_cuda_masked_linear_ce(reinterpret_cast<void *>(16), reinterpret_cast<void *>(16), LP_BF16,
                                                reinterpret_cast<int64_t *>(16), reinterpret_cast<float *>(16), 10, 64,
                                                1000, 1.0, reinterpret_cast<float *>(16), nullptr, nullptr, nullptr,
                                                nullptr, nullptr, 0, row - 1, stream);
        const bool ok = ws == -1 && rc == LP_ERR_INVALID_ARGUMENT && std::strstr(lp_last_error(), "one row") != nullptr;
        std::printf("%s  chunk budget of %" PRId64 " bytes (one row needs %" PRId64 "): size %" PRId64 ", status %d: %s\n",
                    ok ? "PASS" : "FAIL", row - 1, row, ws, rc, lp_last_error());
        (ok ? passed : failed)++;
    }

    for (const Case &c : cases) {
        std::string summary;
        const Outcome o = run_case(c, stream, summary);
        std::printf("%s  %-4s N=%" PRId64 " D=%" PRId64 " V=%" PRId64 " dens=%.2f chunk_rows=%" PRId64
                    " w=%s denom=%s%s%s%s%s%s |%s%s%s\n",
                    o.ok ? "PASS" : "FAIL", dtype_name(c.dtype), c.N, c.D, c.V, c.density, c.chunk_rows,
                    weight_mode_name(c.wmode),
                    c.denom_is_count ? "count" : "3.7", c.with_dh ? "" : " no-dh", c.with_dW ? "" : " no-dW",
                    c.with_logp ? "" : " no-logp", c.with_entropy ? "" : " no-entropy",
                    c.default_stream ? " default-stream" : "", summary.c_str(), o.ok ? "" : " :: ", o.detail.c_str());
        std::fflush(stdout);
        (o.ok ? passed : failed)++;
    }
    CK(cudaStreamDestroy(stream));
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
