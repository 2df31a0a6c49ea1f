/*
 * Native test of lp_cuda_topk / lp_cuda_sample against their CPU twins lp_cpu_topk / lp_cpu_sample
 * (the CPU engine's own token_choice.cpp, itself checked against independent references by
 * test_token_choice_cpu), through the public ABI. Exit codes: 0 all passed, 1 a case failed, 2 a CUDA
 * call of the test itself failed, 77 skipped (no usable CUDA backend).
 *
 * Rows: Gaussian logits, logits quantised to 0.25 (long runs of ties), rows with -inf entries and
 * signed zeros, V from 1 to 152064, n up to 64. Expectations:
 *   top-n ids: equal to the CPU's exactly (decided by fp32 comparisons only);
 *   top-n probs: |got - cpu| <= 4e-7 * cpu (both are fp32 roundings of double quotients whose sums
 *                differ only in order, ~1e-16 relative: at most one fp32 ulp apart);
 *   sampled / greedy tokens: equal to the CPU's (they could differ only if u * mass fell within
 *                ~1e-15 relative of a cumulative boundary, which random draws do not hit);
 *   logprob, entropy: |got - cpu| <= 1e-9 (double sums in different orders).
 * Outputs are poisoned first (ids -1, probs NaN), so a missing write fails; NaN never passes.
 */
#include "linchpin.h"
#include "cuda_test_support.h"

#include <cuda_runtime.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>


namespace {

enum Kind { GAUSS, TIES, SPECIAL };
const char *kind_name(Kind k) { return k == GAUSS ? "gauss" : k == TIES ? "ties" : "special"; }

std::vector<float> make_logits(int64_t B, int64_t V, Kind kind, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> nd(0.f, 2.5f);
    std::vector<float> z(B * V);
    for (auto &x : z) x = kind == TIES ? std::round(nd(rng) * 4.f) * 0.25f : nd(rng);
    if (kind == SPECIAL)
        for (int64_t r = 0; r < B; ++r) {
            float *zr = z.data() + r * V;
            /* Every third logit -inf, but never all of them: a row with no finite logit has no
             * distribution (both twins give NaN log-probability and entropy for it). */
            for (int64_t v = V > 1 ? 0 : 1; v < V; v += 3) zr[v] = -INFINITY;
            if (V > 4) zr[1] = -0.0f, zr[4] = 0.0f;
            if (r % 2 == 0 && V > 5) zr[V - 1] = zr[V - 2] = 9.0f; /* a tie at the top */
        }
    return z;
}

template <typename T>
T *to_device(const std::vector<T> &h) {
    T *d = nullptr;
    CK(cudaMalloc(&d, h.size() * sizeof(T)));
    CK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T>
std::vector<T> to_host(const T *d, size_t n) {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

bool topk_case(int64_t B, int64_t V, int64_t n, Kind kind, uint64_t seed, cudaStream_t st, std::string &detail) {
    const std::vector<float> z = make_logits(B, V, kind, seed);
    std::vector<int64_t> ref_ids(B * n);
    std::vector<float> ref_p(B * n);
    if (lp_cpu_topk(z.data(), B, V, V, n, ref_ids.data(), ref_p.data()) != LP_OK) {
        detail = std::string("CPU twin failed: ") + lp_last_error();
        return false;
    }
    float *dz = to_device(z);
    int64_t *dids = nullptr;
    float *dp = nullptr;
    CK(cudaMalloc(&dids, B * n * 8));
    CK(cudaMalloc(&dp, B * n * 4));
    CK(cudaMemsetAsync(dids, 0xff, B * n * 8, st)); /* poison, on the stream the kernel runs on */
    CK(cudaMemsetAsync(dp, 0xff, B * n * 4, st));
    CK(cudaDeviceSynchronize()); /* the pageable uploads (legacy stream) are not ordered with st */
    bool ok = true;
    if (lp_cuda_topk(dz, B, V, V, n, dids, dp, st) != LP_OK) {
        detail = std::string("call failed: ") + lp_last_error();
        ok = false;
    } else {
        CK(cudaStreamSynchronize(st));
        const std::vector<int64_t> ids = to_host(dids, B * n);
        const std::vector<float> p = to_host(dp, B * n);
        for (int64_t i = 0; i < B * n && ok; ++i) {
            if (ids[i] != ref_ids[i] || !(std::fabs(p[i] - ref_p[i]) <= 4e-7f * ref_p[i])) {
                char buf[200];
                std::snprintf(buf, sizeof buf, "row %lld rank %lld: got (%lld, %.9g) CPU (%lld, %.9g)",
                              (long long)(i / n), (long long)(i % n), (long long)ids[i], p[i], (long long)ref_ids[i],
                              ref_p[i]);
                detail = buf;
                ok = false;
            }
        }
    }
    CK(cudaFree(dz));
    CK(cudaFree(dids));
    CK(cudaFree(dp));
    return ok;
}

bool sample_case(int64_t B, int64_t V, Kind kind, double T, double top_p, uint64_t seed, cudaStream_t st,
                 std::string &detail) {
    const std::vector<float> z = make_logits(B, V, kind, seed);
    std::vector<int64_t> req(B), step(B), ref_tok(B);
    std::vector<double> ref_lp(B), ref_ent(B);
    for (int64_t r = 0; r < B; ++r) req[r] = int64_t(seed % 1000) * 1000 + r, step[r] = r % 17;
    if (lp_cpu_sample(z.data(), B, V, V, T, top_p, seed, req.data(), step.data(), ref_tok.data(), ref_lp.data(),
                      ref_ent.data()) != LP_OK) {
        detail = std::string("CPU twin failed: ") + lp_last_error();
        return false;
    }
    float *dz = to_device(z);
    int64_t *dreq = to_device(req), *dstep = to_device(step), *dtok = nullptr;
    double *dlp = nullptr, *dent = nullptr;
    CK(cudaMalloc(&dtok, B * 8));
    CK(cudaMalloc(&dlp, B * 8));
    CK(cudaMalloc(&dent, B * 8));
    CK(cudaMemsetAsync(dtok, 0xff, B * 8, st)); /* poison, on the stream the kernel runs on */
    CK(cudaMemsetAsync(dlp, 0xff, B * 8, st));
    CK(cudaMemsetAsync(dent, 0xff, B * 8, st));
    CK(cudaDeviceSynchronize()); /* the pageable uploads (legacy stream) are not ordered with st */
    bool ok = true;
    if (lp_cuda_sample(dz, B, V, V, T, top_p, seed, dreq, dstep, dtok, dlp, dent, st) != LP_OK) {
        detail = std::string("call failed: ") + lp_last_error();
        ok = false;
    } else {
        CK(cudaStreamSynchronize(st));
        const std::vector<int64_t> tok = to_host(dtok, B);
        const std::vector<double> lp = to_host(dlp, B), ent = to_host(dent, B);
        for (int64_t r = 0; r < B && ok; ++r) {
            if (tok[r] != ref_tok[r] || !(std::fabs(lp[r] - ref_lp[r]) <= 1e-9) ||
                !(std::fabs(ent[r] - ref_ent[r]) <= 1e-9)) {
                char buf[240];
                std::snprintf(buf, sizeof buf, "row %lld: got (%lld, %.12g, %.12g) CPU (%lld, %.12g, %.12g)",
                              (long long)r, (long long)tok[r], lp[r], ent[r], (long long)ref_tok[r], ref_lp[r],
                              ref_ent[r]);
                detail = buf;
                ok = false;
            }
        }
    }
    for (void *p : {static_cast<void *>(dz), static_cast<void *>(dreq), static_cast<void *>(dstep),
                    static_cast<void *>(dtok), static_cast<void *>(dlp), static_cast<void *>(dent)})
        CK(cudaFree(p));
    return ok;
}

/* A padded vocabulary: rows of stride V whose ids [V_valid, V) hold the largest logits (embedding rows
 * beyond the tokenizer). The device must choose among [0, V_valid) only, exactly as the CPU twin does
 * with the same V_valid (itself checked against compacted rows by test_token_choice_cpu). Every copy
 * and poison is ordered on the test's stream. */
bool padded_case(int64_t B, int64_t V, int64_t V_valid, int64_t n, uint64_t seed, cudaStream_t st, std::string &detail) {
    std::vector<float> z = make_logits(B, V, GAUSS, seed);
    for (int64_t r = 0; r < B; ++r)
        for (int64_t v = V_valid; v < V; ++v) z[r * V + v] = 40.f + float(v % 7);
    std::vector<int64_t> ref_ids(B * n), req(B), step(B, 3), ref_tok(B);
    std::vector<float> ref_p(B * n);
    std::vector<double> ref_lp(B), ref_ent(B);
    for (int64_t r = 0; r < B; ++r) req[r] = 500 + 3 * r;
    float *dz = nullptr, *dp = nullptr;
    int64_t *dids = nullptr, *dreq = nullptr, *dstep = nullptr, *dtok = nullptr;
    double *dlp = nullptr, *dent = nullptr;
    CK(cudaMalloc(&dz, B * V * 4));
    CK(cudaMalloc(&dp, B * n * 4));
    CK(cudaMalloc(&dids, B * n * 8));
    CK(cudaMalloc(&dreq, B * 8));
    CK(cudaMalloc(&dstep, B * 8));
    CK(cudaMalloc(&dtok, B * 8));
    CK(cudaMalloc(&dlp, B * 8));
    CK(cudaMalloc(&dent, B * 8));
    CK(cudaMemcpyAsync(dz, z.data(), B * V * 4, cudaMemcpyHostToDevice, st));
    CK(cudaMemcpyAsync(dreq, req.data(), B * 8, cudaMemcpyHostToDevice, st));
    CK(cudaMemcpyAsync(dstep, step.data(), B * 8, cudaMemcpyHostToDevice, st));
    bool ok = true;
    char buf[240];
    if (lp_cpu_topk(z.data(), B, V, V_valid, n, ref_ids.data(), ref_p.data()) != LP_OK) {
        detail = std::string("CPU twin failed: ") + lp_last_error();
        ok = false;
    }
    CK(cudaMemsetAsync(dids, 0xff, B * n * 8, st));
    CK(cudaMemsetAsync(dp, 0xff, B * n * 4, st));
    if (ok && lp_cuda_topk(dz, B, V, V_valid, n, dids, dp, st) != LP_OK) {
        detail = std::string("topk call failed: ") + lp_last_error();
        ok = false;
    }
    if (ok) {
        std::vector<int64_t> ids(B * n);
        std::vector<float> p(B * n);
        CK(cudaMemcpyAsync(ids.data(), dids, B * n * 8, cudaMemcpyDeviceToHost, st));
        CK(cudaMemcpyAsync(p.data(), dp, B * n * 4, cudaMemcpyDeviceToHost, st));
        CK(cudaStreamSynchronize(st));
        for (int64_t i = 0; i < B * n && ok; ++i)
            if (ids[i] != ref_ids[i] || ids[i] >= V_valid || !(std::fabs(p[i] - ref_p[i]) <= 4e-7f * ref_p[i])) {
                std::snprintf(buf, sizeof buf, "topk row %lld rank %lld: got (%lld, %.9g) CPU (%lld, %.9g)",
                              (long long)(i / n), (long long)(i % n), (long long)ids[i], p[i], (long long)ref_ids[i],
                              ref_p[i]);
                detail = buf;
                ok = false;
            }
    }
    const double modes[][2] = {{0.0, 1.0}, {1.0, 1.0}, {0.7, 0.8}};
    for (const auto &mode : modes) {
        if (!ok) break;
        if (lp_cpu_sample(z.data(), B, V, V_valid, mode[0], mode[1], seed, req.data(), step.data(), ref_tok.data(),
                          ref_lp.data(), ref_ent.data()) != LP_OK) {
            detail = std::string("CPU twin failed: ") + lp_last_error();
            ok = false;
            break;
        }
        CK(cudaMemsetAsync(dtok, 0xff, B * 8, st));
        CK(cudaMemsetAsync(dlp, 0xff, B * 8, st));
        CK(cudaMemsetAsync(dent, 0xff, B * 8, st));
        if (lp_cuda_sample(dz, B, V, V_valid, mode[0], mode[1], seed, dreq, dstep, dtok, dlp, dent, st) != LP_OK) {
            detail = std::string("sample call failed: ") + lp_last_error();
            ok = false;
            break;
        }
        std::vector<int64_t> tok(B);
        std::vector<double> lp(B), ent(B);
        CK(cudaMemcpyAsync(tok.data(), dtok, B * 8, cudaMemcpyDeviceToHost, st));
        CK(cudaMemcpyAsync(lp.data(), dlp, B * 8, cudaMemcpyDeviceToHost, st));
        CK(cudaMemcpyAsync(ent.data(), dent, B * 8, cudaMemcpyDeviceToHost, st));
        CK(cudaStreamSynchronize(st));
        for (int64_t r = 0; r < B && ok; ++r)
            if (tok[r] != ref_tok[r] || tok[r] >= V_valid || !(std::fabs(lp[r] - ref_lp[r]) <= 1e-9) ||
                !(std::fabs(ent[r] - ref_ent[r]) <= 1e-9)) {
                std::snprintf(buf, sizeof buf, "sample T=%.1f top_p=%.1f row %lld: got (%lld, %.12g, %.12g) CPU (%lld, %.12g, %.12g)",
                              mode[0], mode[1], (long long)r, (long long)tok[r], lp[r], ent[r], (long long)ref_tok[r],
                              ref_lp[r], ref_ent[r]);
                detail = buf;
                ok = false;
            }
    }
    CK(cudaStreamSynchronize(st));
    for (void *p : {static_cast<void *>(dz), static_cast<void *>(dp), static_cast<void *>(dids), static_cast<void *>(dreq),
                    static_cast<void *>(dstep), static_cast<void *>(dtok), static_cast<void *>(dlp),
                    static_cast<void *>(dent)})
        CK(cudaFree(p));
    return ok;
}

}  // namespace

int main() {
    if (const int skip_or_fail = lp_test_load_cuda_or_skip(); skip_or_fail >= 0) return skip_or_fail;
    int passed = 0, failed = 0;
    cudaStream_t st = nullptr;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    auto report = [&](bool ok, const std::string &what, const std::string &detail) {
        std::printf("%s  %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.empty() ? "" : " | ", detail.c_str());
        std::fflush(stdout);
        (ok ? passed : failed)++;
    };
    {
        float x = 0;
        int64_t i = 0;
        const bool ok = lp_cuda_topk(&x, 1, 4, 4, 5, &i, &x, st) == LP_ERR_INVALID_ARGUMENT &&
                        lp_cuda_topk(&x, 1, 4000, 4000, 2000, &i, &x, st) == LP_ERR_INVALID_ARGUMENT &&
                        lp_cuda_topk(&x, 1, 4, 2, 3, &i, &x, st) == LP_ERR_INVALID_ARGUMENT &&
                        lp_cuda_topk(&x, 1, 4, 5, 1, &i, &x, st) == LP_ERR_INVALID_ARGUMENT &&
                        lp_cuda_sample(&x, 1, 4, 0, 0.0, 1.0, 0, nullptr, nullptr, &i, nullptr, nullptr, st) ==
                            LP_ERR_INVALID_ARGUMENT &&
                        lp_cuda_sample(&x, 1, 4, 4, 1.0, 1.0, 0, nullptr, nullptr, &i, nullptr, nullptr, st) ==
                            LP_ERR_INVALID_ARGUMENT;
        report(ok, "bad arguments refused (n > V, n > 1024, n > V_valid, V_valid outside [1, V], sampling without "
                   "request ids)", "");
    }
    struct TopkShape {
        int64_t B, V, n;
    };
    const TopkShape tks[] = {{1, 1, 1}, {3, 2, 2}, {5, 7, 3}, {4, 513, 9}, {8, 32000, 1},
                             {16, 152064, 3}, {64, 152064, 9}, {7, 100000, 64}, {2, 1500, 1024}};
    uint64_t seed = 777;
    for (const TopkShape &s : tks)
        for (Kind k : {GAUSS, TIES, SPECIAL}) {
            if (k == SPECIAL && s.V < 3 * s.n + 1) continue; /* keep n finite logits */
            std::string detail;
            const bool ok = topk_case(s.B, s.V, s.n, k, seed++, st, detail);
            report(ok, "topk B=" + std::to_string(s.B) + " V=" + std::to_string(s.V) + " n=" + std::to_string(s.n) +
                           " " + kind_name(k),
                   detail);
        }
    struct SampleShape {
        int64_t B, V;
    };
    const SampleShape sss[] = {{1, 1}, {4, 3}, {9, 1000}, {16, 32000}, {32, 152064}};
    for (const SampleShape &s : sss)
        for (Kind k : {GAUSS, TIES, SPECIAL})
            for (double T : {0.0, 0.6, 1.0, 1.5})
                for (double top_p : {1.0, 0.9, 0.3, 0.0}) {
                    if (T <= 0 && top_p < 1.0) continue; /* top_p is ignored when greedy */
                    std::string detail;
                    const bool ok = sample_case(s.B, s.V, k, T, top_p, seed++, st, detail);
                    char what[160];
                    std::snprintf(what, sizeof what, "sample B=%lld V=%lld %s T=%.1f top_p=%.1f", (long long)s.B,
                                  (long long)s.V, kind_name(k), T, top_p);
                    report(ok, what, detail);
                }
    struct PaddedShape {
        int64_t B, V, V_valid, n;
    };
    /* Qwen3's shape: 151936 embedding rows, 151669 token ids. */
    const PaddedShape pss[] = {{3, 9, 1, 1}, {5, 40, 31, 4}, {8, 151936, 151669, 3}};
    for (const PaddedShape &s : pss) {
        std::string detail;
        const bool ok = padded_case(s.B, s.V, s.V_valid, s.n, seed++, st, detail);
        report(ok, "padded vocabulary B=" + std::to_string(s.B) + " V=" + std::to_string(s.V) +
                       " V_valid=" + std::to_string(s.V_valid) + ": only valid ids, as the CPU twin",
               detail);
    }
    CK(cudaStreamDestroy(st));
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
