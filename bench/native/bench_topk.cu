/*
 * Benchmark of lp_cuda_topk and lp_cuda_sample at V = 152064 (Qwen2/3 vocabulary), batch {64, 512}.
 * Prints one JSON object per line (bench "topk_sampling") on stdout; exit 77 without a usable CUDA
 * backend. Modes: topk (n = 3, 9: k + 1 alternatives), greedy, sample (temperature 1, top_p 1) and
 * sample_top_p (temperature 0.7, top_p 0.9). Logits N(0, 2.5^2) from a fixed generator.
 * LP_BENCH_QUICK=1: 1 warm-up, 3 timed calls; else --warmup (3) / --iters (10).
 */
#include "linchpin.h"
#include "bench_support.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {


void emit(const std::string &device, const char *mode, int64_t B, int64_t V, int64_t n, double T, double top_p,
          const std::function<int()> &call, cudaStream_t st, int warmup, int iters) {
    std::vector<float> ms;
    std::string error;
    cudaEvent_t a = nullptr, b = nullptr;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int it = 0; it < warmup + iters && error.empty(); ++it) {
        cudaEventRecord(a, st);
        if (call() != LP_OK) error = lp_last_error();
        cudaEventRecord(b, st);
        const cudaError_t e = cudaEventSynchronize(b);
        if (e != cudaSuccess) error = cudaGetErrorString(e);
        float x = 0;
        cudaEventElapsedTime(&x, a, b);
        if (it >= warmup) ms.push_back(x);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::printf("{\"bench\":\"topk_sampling\",\"impl\":\"linchpin_cuda\",\"device\":\"%s\",\"mode\":\"%s\","
                "\"B\":%" PRId64 ",\"V\":%" PRId64 ",\"n\":%" PRId64 ",\"temperature\":%.2f,\"top_p\":%.2f",
                json_escape(device).c_str(), mode, B, V, n, T, top_p);
    if (!error.empty() || ms.empty()) {
        std::printf(",\"status\":\"error\",\"error\":\"%s\"}\n", json_escape(error.empty() ? "no runs" : error).c_str());
    } else {
        std::sort(ms.begin(), ms.end());
        const double med = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
        std::printf(",\"status\":\"ok\",\"ms_median\":%.4f,\"ms_min\":%.4f,\"gb_per_s_logits\":%.1f,\"warmup\":%d,"
                    "\"iters\":%d}\n",
                    med, double(ms.front()), double(B * V) * 4 / (med * 1e-3) / 1e9, warmup, iters);
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
            std::fprintf(stderr, "usage: bench_topk [--warmup N] [--iters N]\n");
            return 2;
        }
    }
    const char *quick = std::getenv("LP_BENCH_QUICK");
    if (quick && quick[0] == '1') warmup = 1, iters = 3;
    char name[256];
    if (const int skip = lp_bench_load_cuda(name, sizeof name); skip >= 0) return skip;
    const int64_t V = 152064;
    cudaStream_t st = nullptr;
    if (cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) != cudaSuccess) return 2;
    for (int64_t B : {64, 512}) {
        std::fprintf(stderr, "bench_topk: B=%" PRId64 "\n", B);
        std::vector<float> hz(B * V);
        std::mt19937_64 rng{static_cast<uint64_t>(B)};
        std::normal_distribution<float> nd(0.f, 2.5f);
        for (auto &x : hz) x = nd(rng);
        std::vector<int64_t> req(B), step(B, 3);
        for (int64_t r = 0; r < B; ++r) req[r] = r;
        float *z = nullptr, *probs = nullptr;
        int64_t *ids = nullptr, *dreq = nullptr, *dstep = nullptr, *tok = nullptr;
        double *lp = nullptr, *ent = nullptr;
        if (cudaMalloc(&z, B * V * 4) != cudaSuccess || cudaMalloc(&probs, B * 16 * 4) != cudaSuccess ||
            cudaMalloc(&ids, B * 16 * 8) != cudaSuccess || cudaMalloc(&dreq, B * 8) != cudaSuccess ||
            cudaMalloc(&dstep, B * 8) != cudaSuccess || cudaMalloc(&tok, B * 8) != cudaSuccess ||
            cudaMalloc(&lp, B * 8) != cudaSuccess || cudaMalloc(&ent, B * 8) != cudaSuccess)
            return 2;
        cudaMemcpy(z, hz.data(), B * V * 4, cudaMemcpyHostToDevice);
        cudaMemcpy(dreq, req.data(), B * 8, cudaMemcpyHostToDevice);
        cudaMemcpy(dstep, step.data(), B * 8, cudaMemcpyHostToDevice);
        for (int64_t n : {3, 9})
            emit(name, "topk", B, V, n, 1.0, 1.0, [&]() { return lp_cuda_topk(z, B, V, V, n, ids, probs, st); }, st,
                 warmup, iters);
        const double modes[3][2] = {{0.0, 1.0}, {1.0, 1.0}, {0.7, 0.9}};
        const char *names[3] = {"greedy", "sample", "sample_top_p"};
        for (int m = 0; m < 3; ++m)
            emit(name, names[m], B, V, 1, modes[m][0], modes[m][1],
                 [&]() { return lp_cuda_sample(z, B, V, V, modes[m][0], modes[m][1], 42, dreq, dstep, tok, lp, ent, st); },
                 st, warmup, iters);
        for (void *p : {static_cast<void *>(z), static_cast<void *>(probs), static_cast<void *>(ids),
                        static_cast<void *>(dreq), static_cast<void *>(dstep), static_cast<void *>(tok),
                        static_cast<void *>(lp), static_cast<void *>(ent)})
            cudaFree(p);
    }
    cudaStreamDestroy(st);
    return 0;
}
