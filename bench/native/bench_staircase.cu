/*
 * Benchmark of the CUDA staircase attention (lp_cuda_staircase_attention) against per-branch attention
 * with the same kernel (one call per branch, each reading its own KV prefix: what a per-branch engine
 * does). Prints one JSON object per line on stdout; progress and errors go to stderr; exit 77 without
 * a usable CUDA backend.
 *
 * Configurations: T in {1024, 4096, 8192}, branches in {16, 64, 256}, GQA 32/8 and 28/4,
 * d = 128, bf16; one decode row per branch (suffix length 1), branch points an even staircase
 * b_i = T (i + 1) / n (branches taken all along the trajectory, the last one at T).
 * LP_BENCH_QUICK=1 (run.sh --quick): 1 warm-up, 3 timed calls; else --warmup (3) / --iters (10).
 *
 * Each record: ms (median/min/p90 of cudaEvent-timed calls) of the staircase call
 * (impl linchpin_cuda_staircase) and of the n per-branch calls (impl linchpin_cuda_per_branch, the
 * same kernel with n_branches = 1 each), their ratio, and the shared-KV bytes each has to read:
 * staircase 2·max(b)·Hkv·d·2, per-branch 2·Σ b_i·Hkv·d·2.
 */
#include "linchpin.h"
#include "bench_support.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

struct Config {
    int64_t T, n, H, Hkv, d;
};

__global__ void fill_bf16(__nv_bfloat16 *p, int64_t n, uint64_t seed) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        uint64_t z = seed + 0x9E3779B97F4A7C15ull * uint64_t(i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        p[i] = __float2bfloat16_rn(float(z >> 40) * (1.0f / 8388608.0f) - 1.0f);
    }
}


struct Timing {
    double med = NAN, min = NAN, p90 = NAN;
    std::string error;
};

/* Times `call` (which enqueues on `st` and returns an lp_status) with cudaEvents. */
Timing time_calls(const std::function<int()> &call, cudaStream_t st, int warmup, int iters) {
    Timing t;
    cudaEvent_t a = nullptr, b = nullptr;
    std::vector<float> ms;
    if (cudaEventCreate(&a) != cudaSuccess || cudaEventCreate(&b) != cudaSuccess) {
        t.error = "cudaEventCreate failed";
        return t;
    }
    for (int it = 0; it < warmup + iters && t.error.empty(); ++it) {
        cudaEventRecord(a, st);
        if (call() != LP_OK) t.error = lp_last_error();
        cudaEventRecord(b, st);
        const cudaError_t e = cudaEventSynchronize(b);
        if (e != cudaSuccess) t.error = cudaGetErrorString(e);
        float x = 0;
        cudaEventElapsedTime(&x, a, b);
        if (it >= warmup) ms.push_back(x);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    if (!t.error.empty() || ms.empty()) return t;
    std::sort(ms.begin(), ms.end());
    t.med = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
    t.min = ms.front();
    t.p90 = ms[std::min(ms.size() - 1, size_t(std::ceil(0.9 * double(ms.size()))) - 1)];
    return t;
}

void run(const Config &c, int warmup, int iters, const std::string &device) {
    const int64_t T = c.T, n = c.n, H = c.H, Hkv = c.Hkv, d = c.d, S = n; /* one decode row per branch */
    std::vector<int64_t> bp(n), off(n + 1);
    double sum_b = 0;
    for (int64_t i = 0; i < n; ++i) {
        bp[i] = T * (i + 1) / n;
        off[i] = i;
        sum_b += double(bp[i]);
    }
    off[n] = n;
    const float scale = 1.0f / std::sqrt(float(d));
    std::string error;
    Timing stair, per;
    __nv_bfloat16 *q = nullptr, *ks = nullptr, *vs = nullptr, *kx = nullptr, *vx = nullptr;
    int64_t *dbp = nullptr, *doff = nullptr, *dzero = nullptr;
    float *out = nullptr;
    void *ws = nullptr, *ws1 = nullptr;
    cudaStream_t st = nullptr;
    const int64_t wsb = lp_cuda_staircase_attention_workspace_size(T, S, H, Hkv, d, LP_BF16);
    const int64_t wsb1 = lp_cuda_staircase_attention_workspace_size(T, 1, H, Hkv, d, LP_BF16);
    const int64_t zero_off[2] = {0, 1};
    auto ck = [&](cudaError_t e, const char *what) {
        if (e != cudaSuccess && error.empty()) error = std::string(what) + ": " + cudaGetErrorString(e);
        return error.empty();
    };
    if (wsb < 0 || wsb1 < 0) error = std::string("workspace size: ") + lp_last_error();
    if (error.empty() && ck(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "stream") &&
        ck(cudaMalloc(&q, S * H * d * 2), "malloc q") && ck(cudaMalloc(&ks, T * Hkv * d * 2), "malloc k") &&
        ck(cudaMalloc(&vs, T * Hkv * d * 2), "malloc v") && ck(cudaMalloc(&kx, S * Hkv * d * 2), "malloc kx") &&
        ck(cudaMalloc(&vx, S * Hkv * d * 2), "malloc vx") && ck(cudaMalloc(&dbp, n * 8), "malloc bp") &&
        ck(cudaMalloc(&doff, (n + 1) * 8), "malloc off") && ck(cudaMalloc(&dzero, 16), "malloc off1") &&
        ck(cudaMalloc(&out, S * H * d * 4), "malloc out") && ck(cudaMalloc(&ws, std::max<int64_t>(wsb, 16)), "ws") &&
        ck(cudaMalloc(&ws1, std::max<int64_t>(wsb1, 16)), "ws1")) {
        fill_bf16<<<1024, 256>>>(q, S * H * d, 1);
        fill_bf16<<<1024, 256>>>(ks, T * Hkv * d, 2);
        fill_bf16<<<1024, 256>>>(vs, T * Hkv * d, 3);
        fill_bf16<<<1024, 256>>>(kx, S * Hkv * d, 4);
        fill_bf16<<<1024, 256>>>(vx, S * Hkv * d, 5);
        ck(cudaMemcpy(dbp, bp.data(), n * 8, cudaMemcpyHostToDevice), "copy bp");
        ck(cudaMemcpy(doff, off.data(), (n + 1) * 8, cudaMemcpyHostToDevice), "copy off");
        ck(cudaMemcpy(dzero, zero_off, 16, cudaMemcpyHostToDevice), "copy off1");
        ck(cudaDeviceSynchronize(), "fill");
    }
    if (error.empty()) {
        stair = time_calls(
            [&]() {
                return lp_cuda_staircase_attention(q, ks, vs, T, kx, vx, dbp, doff, n, S, nullptr, S, H, Hkv, d, scale,
                                                   LP_BF16, out, ws, wsb, st);
            },
            st, warmup, iters);
        per = time_calls(
            [&]() {
                for (int64_t i = 0; i < n; ++i) { /* branch i alone: its row, its branch point, its suffix */
                    const int rc = lp_cuda_staircase_attention(q + i * H * d, ks, vs, T, kx + i * Hkv * d,
                                                               vx + i * Hkv * d, dbp + i, dzero, 1, 1, nullptr, 1, H,
                                                               Hkv, d, scale, LP_BF16, out + i * H * d, ws1, wsb1, st);
                    if (rc != LP_OK) return rc;
                }
                return int(LP_OK);
            },
            st, warmup, iters);
        if (!stair.error.empty()) error = "staircase: " + stair.error;
        else if (!per.error.empty()) error = "per-branch: " + per.error;
    }
    for (void *p : {static_cast<void *>(q), static_cast<void *>(ks), static_cast<void *>(vs), static_cast<void *>(kx),
                    static_cast<void *>(vx), static_cast<void *>(dbp), static_cast<void *>(doff),
                    static_cast<void *>(dzero), static_cast<void *>(out), ws, ws1})
        if (p) cudaFree(p);
    if (st) cudaStreamDestroy(st);

    const double kv_stair = 2.0 * double(bp[n - 1]) * double(Hkv * d) * 2, kv_per = 2.0 * sum_b * double(Hkv * d) * 2;
    std::printf("{\"bench\":\"staircase_attention\",\"impl\":\"linchpin_cuda\",\"device\":\"%s\",\"dtype\":\"bf16\","
                "\"T\":%" PRId64 ",\"branches\":%" PRId64 ",\"H\":%" PRId64 ",\"Hkv\":%" PRId64 ",\"d\":%" PRId64
                ",\"suffix_rows\":1,\"branch_points\":\"T*(i+1)/n\",\"shared_kv_mb_staircase\":%.2f,"
                "\"shared_kv_mb_per_branch\":%.2f,\"workspace_mb\":%.2f",
                json_escape(device).c_str(), T, n, H, Hkv, d, kv_stair / 1048576.0, kv_per / 1048576.0,
                double(wsb) / 1048576.0);
    if (!error.empty()) {
        std::printf(",\"status\":\"error\",\"error\":\"%s\"}\n", json_escape(error).c_str());
    } else {
        std::printf(",\"status\":\"ok\",\"ms_median\":%.4f,\"ms_min\":%.4f,\"ms_p90\":%.4f,\"per_branch_ms_median\":%.4f,"
                    "\"per_branch_ms_min\":%.4f,\"speedup_vs_per_branch\":%.2f,\"warmup\":%d,\"iters\":%d}\n",
                    stair.med, stair.min, stair.p90, per.med, per.min, per.med / stair.med, warmup, iters);
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
    int warmup = 3, iters = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--warmup")) warmup = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: bench_staircase [--warmup N] [--iters N]\n");
            return 2;
        }
    }
    const char *quick = std::getenv("LP_BENCH_QUICK");
    if (quick && quick[0] == '1') warmup = 1, iters = 3;
    char name[256];
    if (const int skip = lp_bench_load_cuda(name, sizeof name); skip >= 0) return skip;
    const int64_t heads[2][2] = {{32, 8}, {28, 4}};
    for (int64_t T : {1024, 4096, 8192})
        for (int64_t n : {16, 64, 256})
            for (const auto &hk : heads) {
                std::fprintf(stderr, "bench_staircase: T=%" PRId64 " branches=%" PRId64 " H=%" PRId64 "/%" PRId64 "\n",
                             T, n, hk[0], hk[1]);
                run(Config{T, n, hk[0], hk[1], 128}, warmup, iters, name);
            }
    return 0;
}
