/*
 * Native test of the CUDA staircase attention against its CPU twin (lp_cpu_staircase_attention,
 * itself checked against a float64 per-branch reference by test_staircase_attention_cpu), through
 * the public ABI only. Exit codes: 0 all passed, 1 a case failed, 2 a CUDA call of the test itself
 * failed, 77 skipped (no usable CUDA backend).
 *
 * Each case: random shapes (T = 0 .. 2100, 1 .. 300 branches, branch points at 0, T, tile borders and
 * at random, suffixes of 1 .. 40 rows, GQA groups 1 .. 7, d = 1 .. 256) in f32 / bf16 / f16. The CPU
 * twin gets the very values the GPU sees (16-bit inputs rounded and widened back), so only the fp32
 * summation order differs. Outputs are convex combinations of value rows: error test per element
 * |got - ref| <= 2e-5 * max|v| + 1e-4 * |ref|, written as !(err <= tol) so NaN never passes; the
 * output buffer is poisoned with NaN bytes first, so an element the kernel forgets fails. Every shape
 * runs twice: all suffix rows as queries (query_rows NULL), and a shuffled subset of query rows that
 * holds each branch's last row (what a decode step asks for), both against the CPU twin given the
 * same query rows.
 */
#include "linchpin.h"
#include "cuda_test_support.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>


namespace {

const char *dtype_name(int dt) { return dt == LP_F32 ? "f32" : dt == LP_BF16 ? "bf16" : "f16"; }

/* Rounds to the dtype and returns the widened value (what the GPU reads), plus the device bits. */
float round_to(int dt, float x, uint16_t *bits) {
    if (dt == LP_BF16) {
        __nv_bfloat16 b = __float2bfloat16(x);
        *bits = *reinterpret_cast<uint16_t *>(&b);
        return __bfloat162float(b);
    }
    __half h = __float2half(x);
    *bits = *reinterpret_cast<uint16_t *>(&h);
    return __half2float(h);
}

/* Uploads `host` in dtype dt (rounding host in place to what the device holds). */
void *upload(int dt, std::vector<float> &host) {
    if (host.empty()) return nullptr;
    void *dev = nullptr;
    if (dt == LP_F32) {
        CK(cudaMalloc(&dev, host.size() * 4));
        CK(cudaMemcpy(dev, host.data(), host.size() * 4, cudaMemcpyHostToDevice));
        return dev;
    }
    std::vector<uint16_t> bits(host.size());
    for (size_t i = 0; i < host.size(); ++i) host[i] = round_to(dt, host[i], &bits[i]);
    CK(cudaMalloc(&dev, bits.size() * 2));
    CK(cudaMemcpy(dev, bits.data(), bits.size() * 2, cudaMemcpyHostToDevice));
    return dev;
}

struct Case {
    int64_t T, H, Hkv, d;
    std::vector<int64_t> b, len;
    int dtype;
    uint64_t seed;
    bool subset; /* query rows: a shuffled subset holding each branch's last row; else all (NULL) */
};

bool run_case(const Case &c, cudaStream_t stream, std::string &detail) {
    std::mt19937_64 rng(c.seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    const int64_t n = int64_t(c.b.size()), H = c.H, Hkv = c.Hkv, d = c.d;
    std::vector<int64_t> off(n + 1, 0);
    for (int64_t i = 0; i < n; ++i) off[i + 1] = off[i] + c.len[i];
    const int64_t S = off[n];
    std::vector<int64_t> rows;
    if (c.subset) {
        for (int64_t i = 0; i < n; ++i) rows.push_back(off[i + 1] - 1);
        for (int64_t r = 0; r < S; ++r)
            if (rng() % 4 == 0 && std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
        std::shuffle(rows.begin(), rows.end(), rng);
    }
    const int64_t Q = c.subset ? int64_t(rows.size()) : S;
    auto randv = [&](int64_t count, float sd) {
        std::vector<float> v(count);
        for (auto &x : v) x = sd * nd(rng);
        return v;
    };
    std::vector<float> q = randv(Q * H * d, 1.f), ks = randv(c.T * Hkv * d, 1.f), vs = randv(c.T * Hkv * d, 1.f),
                       kx = randv(S * Hkv * d, 1.f), vx = randv(S * Hkv * d, 1.f);
    const float scale = 1.0f / std::sqrt(float(d)) * 1.7f; /* sharper than usual: exercises the max tracking */
    void *dq = upload(c.dtype, q), *dks = upload(c.dtype, ks), *dvs = upload(c.dtype, vs), *dkx = upload(c.dtype, kx),
         *dvx = upload(c.dtype, vx);
    int64_t *dbp = nullptr, *doff = nullptr, *drows = nullptr;
    CK(cudaMalloc(&dbp, n * 8));
    CK(cudaMalloc(&doff, (n + 1) * 8));
    CK(cudaMemcpy(dbp, c.b.data(), n * 8, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(doff, off.data(), (n + 1) * 8, cudaMemcpyHostToDevice));
    if (c.subset) {
        CK(cudaMalloc(&drows, Q * 8));
        CK(cudaMemcpy(drows, rows.data(), Q * 8, cudaMemcpyHostToDevice));
    }
    float *dout = nullptr;
    CK(cudaMalloc(&dout, Q * H * d * 4));
    CK(cudaMemsetAsync(dout, 0xff, Q * H * d * 4, stream)); /* NaN poison, on the stream the kernel runs on */
    const int64_t wsb = lp_cuda_staircase_attention_workspace_size(c.T, Q, H, Hkv, d, c.dtype);
    void *dws = nullptr;
    if (wsb < 0) {
        detail = std::string("workspace_size failed: ") + lp_last_error();
        return false;
    }
    CK(cudaMalloc(&dws, wsb > 0 ? wsb : 16));
    CK(cudaMemsetAsync(dws, 0xff, wsb > 0 ? wsb : 16, stream)); /* stale partials must never be read */
    /* The uploads went through pageable cudaMemcpy on the legacy stream, which a non-blocking stream
     * does not wait for (the DMA may still be running when cudaMemcpy returns): finish them first. */
    CK(cudaDeviceSynchronize());
    std::vector<float> ref(Q * H * d), got(Q * H * d);
    bool ok = true;
    const int rc = lp_cuda_staircase_attention(dq, dks, dvs, c.T, dkx, dvx, dbp, doff, n, S, drows, Q, H, Hkv, d, scale,
                                               c.dtype, dout, dws, wsb, stream);
    if (rc != LP_OK) {
        detail = std::string("call failed: ") + lp_last_error();
        ok = false;
    } else {
        CK(cudaStreamSynchronize(stream));
        CK(cudaMemcpy(got.data(), dout, got.size() * 4, cudaMemcpyDeviceToHost));
        if (lp_cpu_staircase_attention(q.data(), c.T ? ks.data() : nullptr, c.T ? vs.data() : nullptr, c.T, kx.data(),
                                       vx.data(), c.b.data(), off.data(), n, c.subset ? rows.data() : nullptr, Q, H, Hkv,
                                       d, scale, ref.data(), 0) != LP_OK) {
            detail = std::string("CPU twin failed: ") + lp_last_error();
            ok = false;
        } else {
            float vmax = 0.f;
            for (float x : vs) vmax = std::max(vmax, std::fabs(x));
            for (float x : vx) vmax = std::max(vmax, std::fabs(x));
            double worst = 0;
            for (size_t i = 0; i < got.size(); ++i) {
                const double err = std::fabs(double(got[i]) - ref[i]);
                const double tol = 2e-5 * vmax + 1e-4 * std::fabs(ref[i]);
                if (!(err <= tol)) {
                    if (ok) {
                        char buf[200];
                        std::snprintf(buf, sizeof buf, "first bad element %zu (row %lld): got %g, CPU %g", i,
                                      (long long)(i / (H * d)), got[i], ref[i]);
                        detail = buf;
                    }
                    ok = false;
                }
                worst = std::max(worst, err);
            }
            if (ok) {
                char buf[80];
                std::snprintf(buf, sizeof buf, "max err %.2e", worst);
                detail = buf;
            }
        }
    }
    for (void *p : {dq, dks, dvs, dkx, dvx, static_cast<void *>(dbp), static_cast<void *>(doff),
                    static_cast<void *>(drows), static_cast<void *>(dout), dws})
        if (p) CK(cudaFree(p));
    return ok;
}

}  // namespace

int main() {
    if (const int skip_or_fail = lp_test_load_cuda_or_skip(); skip_or_fail >= 0) return skip_or_fail;
    int passed = 0, failed = 0;
    cudaStream_t stream = nullptr;
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

    /* refusals: d above the limit, unknown dtype, S < n */
    {
        int64_t dummy = 0;
        const int r1 = lp_cuda_staircase_attention(&dummy, &dummy, &dummy, 1, &dummy, &dummy, &dummy, &dummy, 1, 1,
                                                   nullptr, 1, 1, 1, 300, 1.f, LP_F32, reinterpret_cast<float *>(&dummy),
                                                   &dummy, 8, stream);
        const int r2 = lp_cuda_staircase_attention(&dummy, &dummy, &dummy, 1, &dummy, &dummy, &dummy, &dummy, 1, 1,
                                                   nullptr, 1, 1, 1, 8, 1.f, 7, reinterpret_cast<float *>(&dummy), &dummy,
                                                   8, stream);
        const int r3 = lp_cuda_staircase_attention(&dummy, &dummy, &dummy, 1, &dummy, &dummy, &dummy, &dummy, 2, 1,
                                                   nullptr, 1, 1, 1, 8, 1.f, LP_F32, reinterpret_cast<float *>(&dummy),
                                                   &dummy, 8, stream);
        const int r4 = lp_cuda_staircase_attention(&dummy, &dummy, &dummy, 1, &dummy, &dummy, &dummy, &dummy, 1, 1,
                                                   nullptr, 2, 1, 1, 8, 1.f, LP_F32, reinterpret_cast<float *>(&dummy),
                                                   &dummy, 8, stream);
        const bool ok = r1 == LP_ERR_INVALID_ARGUMENT && r2 == LP_ERR_INVALID_ARGUMENT && r3 == LP_ERR_INVALID_ARGUMENT &&
                        r4 == LP_ERR_INVALID_ARGUMENT;
        std::printf("%s  bad arguments refused (%d %d %d %d)\n", ok ? "PASS" : "FAIL", r1, r2, r3, r4);
        (ok ? passed : failed)++;
    }

    struct Shape {
        int64_t T, H, Hkv, d, n, max_len;
    };
    const Shape shapes[] = {
        {0, 4, 1, 16, 3, 5},       /* no shared KV: suffix only */
        {1, 2, 2, 1, 2, 1},        /* d = 1 */
        {31, 8, 2, 5, 7, 4},       /* T below one tile, odd d */
        {64, 4, 4, 64, 16, 1},     /* decode-like: one row per branch */
        {257, 8, 2, 128, 33, 3},   /* one past a split, pairs not a multiple of 32 */
        {700, 28, 4, 128, 9, 6},   /* GQA 28/4 (group 7) */
        {2100, 32, 8, 128, 64, 1}, /* several splits, 64 decode branches */
        {513, 12, 3, 256, 5, 40},  /* d = 256, long suffixes (several 32-row suffix steps) */
        {1000, 4, 1, 96, 300, 1},  /* many branches */
        {90, 6, 3, 33, 4, 70},     /* suffix longer than T */
    };
    const int dtypes[] = {LP_F32, LP_BF16, LP_F16};
    uint64_t seed = 4242;
    for (int dt : dtypes) {
        for (const Shape &sh : shapes) for (bool subset : {false, true}) {
            Case c;
            c.subset = subset;
            c.T = sh.T;
            c.H = sh.H;
            c.Hkv = sh.Hkv;
            c.d = sh.d;
            c.dtype = dt;
            c.seed = seed++;
            std::mt19937_64 rng(c.seed * 7 + 1);
            for (int64_t i = 0; i < sh.n; ++i) {
                int64_t b;
                switch (i % 5) { /* edges: 0, T, tile / split borders, random */
                    case 0: b = sh.T; break;
                    case 1: b = 0; break;
                    case 2: b = std::min<int64_t>(sh.T, 32 * int64_t(rng() % 4 + 1)); break;
                    default: b = sh.T ? int64_t(rng() % (sh.T + 1)) : 0;
                }
                c.b.push_back(b);
                c.len.push_back(1 + int64_t(rng() % sh.max_len));
            }
            std::string detail;
            const bool ok = run_case(c, stream, detail);
            std::printf("%s  %-4s T=%" PRId64 " H=%" PRId64 "/%" PRId64 " d=%" PRId64 " branches=%" PRId64 " %s | %s\n",
                        ok ? "PASS" : "FAIL", dtype_name(dt), c.T, c.H, c.Hkv, c.d, sh.n,
                        subset ? "query-row subset" : "all rows", detail.c_str());
            std::fflush(stdout);
            (ok ? passed : failed)++;
        }
    }
    CK(cudaStreamDestroy(stream));
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
