// lp_cpu_topk / lp_cpu_sample (the CPU engine's token choice behind the C ABI) against independent
// references written here: a full std::sort in double for top-n, a plain arg-max for greedy, the
// published first output of SplitMix64 (seed 0 -> 0xE220A8397B1DCDAF) for the RNG, an independent
// sort-based top-p sampler fed the same uniform for sampling, and the empirical token frequencies over
// 20000 request ids against softmax(z / T) for the sampled distribution.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "linchpin.h"

namespace {

int g_passed = 0, g_failed = 0;

void check(bool ok, const char *what) {
    if (ok) {
        ++g_passed;
    } else {
        ++g_failed;
        std::printf("FAIL %s\n", what);
    }
}

uint64_t mix(uint64_t x) {  // SplitMix64 output function, from its published definition
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double uniform(uint64_t seed, uint64_t req, uint64_t step) {
    return double(mix(mix(mix(seed) ^ req) ^ step) >> 11) / 9007199254740992.0;
}

// Independent top-p sampler: full sort by (p desc, id asc), nucleus, inverse CDF.
int64_t ref_sample(const std::vector<float> &z, double T, double top_p, double u) {
    const int64_t V = int64_t(z.size());
    const double m = *std::max_element(z.begin(), z.end());
    std::vector<double> p(V);
    double total = 0;
    for (int64_t v = 0; v < V; ++v) total += p[v] = std::exp((z[v] - m) / T);
    std::vector<int64_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    if (top_p < 1) std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    int64_t keep = V;
    double mass = total;
    if (top_p < 1) {
        mass = 0;
        keep = 0;
        while (keep < V && (keep == 0 || mass < top_p * total)) mass += p[order[keep++]];
    }
    double acc = 0;
    for (int64_t k = 0; k < keep; ++k) {
        acc += p[order[k]];
        if (u * mass < acc) return order[k];
    }
    return order[keep - 1];
}

}  // namespace

int main() {
    check(mix(0) == 0xE220A8397B1DCDAFull, "SplitMix64 reference value");
    std::mt19937_64 rng(99);
    std::normal_distribution<float> nd(0.f, 3.f);
    char what[200];

    // top-n vs a full sort, with ties (logits quantised to 0.5) and signed zeros
    for (int64_t V : {1, 2, 7, 100, 5000}) {
        for (bool ties : {false, true}) {
            const int64_t B = 3, n = std::min<int64_t>(V, 6);
            std::vector<float> z(B * V);
            for (auto &x : z) x = ties ? std::round(nd(rng)) * 0.5f : nd(rng);
            if (ties && V > 3) z[1] = -0.0f, z[2] = 0.0f;
            std::vector<int64_t> ids(B * n);
            std::vector<float> probs(B * n);
            check(lp_cpu_topk(z.data(), B, V, V, n, ids.data(), probs.data()) == LP_OK, "lp_cpu_topk ok");
            for (int64_t r = 0; r < B; ++r) {
                const float *zr = z.data() + r * V;
                std::vector<int64_t> order(V);
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return zr[a] > zr[b]; });
                double m = zr[order[0]], sum = 0;
                for (int64_t v = 0; v < V; ++v) sum += std::exp(zr[v] - m);
                bool ok = true;
                for (int64_t i = 0; i < n; ++i) {
                    ok &= ids[r * n + i] == order[i];
                    const double p = std::exp(zr[order[i]] - m) / sum;
                    ok &= std::fabs(probs[r * n + i] - p) <= 1e-6 * p;
                }
                std::snprintf(what, sizeof what, "top-n V=%lld ties=%d row %lld", (long long)V, ties, (long long)r);
                check(ok, what);
            }
        }
    }

    // greedy and sampling vs the independent sampler, same uniforms
    for (int64_t V : {1, 3, 50, 3000, 40000}) {   // 40000: a nucleus of thousands of tied tokens
        const int64_t B = 8;
        std::vector<float> z(B * V);
        for (auto &x : z) x = std::round(nd(rng) * 2.f) * 0.25f;  // ties on purpose
        std::vector<int64_t> req(B), step(B), tok(B);
        std::vector<double> lp(B), ent(B);
        for (int64_t r = 0; r < B; ++r) req[r] = 1000 + r * 7, step[r] = r % 3;
        for (double T : {0.0, 0.7, 1.0, 1.8}) {
            for (double top_p : {1.0, 0.95, 0.5, 0.0}) {
                const uint64_t seed = 1234567;
                check(lp_cpu_sample(z.data(), B, V, V, T, top_p, seed, req.data(), step.data(), tok.data(), lp.data(),
                                    ent.data()) == LP_OK,
                      "lp_cpu_sample ok");
                for (int64_t r = 0; r < B; ++r) {
                    std::vector<float> zr(z.begin() + r * V, z.begin() + (r + 1) * V);
                    const int64_t expect = T <= 0 ? int64_t(std::max_element(zr.begin(), zr.end()) - zr.begin())
                                                  : ref_sample(zr, T, top_p, uniform(seed, req[r], step[r]));
                    double m = *std::max_element(zr.begin(), zr.end()), sum = 0, sz = 0;
                    for (float x : zr) sum += std::exp(x - m), sz += std::exp(x - m) * x;
                    const double lse = m + std::log(sum);
                    const bool ok = tok[r] == expect && std::fabs(lp[r] - (zr[expect] - lse)) < 1e-9 &&
                                    std::fabs(ent[r] - (lse - sz / sum)) < 1e-9;
                    std::snprintf(what, sizeof what, "sample V=%lld T=%g top_p=%g row %lld: got %lld want %lld",
                                  (long long)V, T, top_p, (long long)r, (long long)tok[r], (long long)expect);
                    check(ok, what);
                }
            }
        }
    }

    // sampled frequencies vs softmax(z / T) (top_p = 1): 20000 draws over request ids
    {
        const std::vector<float> z = {1.0f, 0.0f, 2.0f, -1.0f, 0.5f};
        const double T = 0.8;
        const int64_t N = 20000, V = 5;
        std::vector<float> rows(N * V);
        std::vector<int64_t> req(N), step(N, 5), tok(N);
        for (int64_t i = 0; i < N; ++i) {
            std::copy(z.begin(), z.end(), rows.begin() + i * V);
            req[i] = i;
        }
        check(lp_cpu_sample(rows.data(), N, V, V, T, 1.0, 77, req.data(), step.data(), tok.data(), nullptr, nullptr) == LP_OK,
              "lp_cpu_sample batch ok");
        double total = 0;
        for (float x : z) total += std::exp(x / T);
        bool ok = true;
        for (int64_t v = 0; v < V; ++v) {
            const double p = std::exp(z[v] / T) / total;
            const double f = double(std::count(tok.begin(), tok.end(), v)) / N;
            ok &= std::fabs(f - p) <= 5 * std::sqrt(p * (1 - p) / N);  // 5 sigma
        }
        check(ok, "sampled frequencies match softmax(z / T)");
    }

    // -inf logits (masked tokens, as the CUDA test's SPECIAL rows): probability 0, never chosen, and
    // the entropy stays finite. The entropy reference is -Σ p log p over the tokens with p > 0, a
    // different formula from the engine's lse − Σ p z. V = 1 with one finite logit: entropy 0.
    {
        const float ninf = -INFINITY;
        const std::vector<std::vector<float>> rows = {
            {0.5f, ninf, 1.5f, ninf, -2.0f, 0.25f, ninf},  // a few masked tokens
            {ninf, ninf, ninf, 3.0f, ninf, ninf, ninf},     // one finite logit among masked ones
            {ninf, 2.0f, 2.0f, ninf, ninf, ninf, ninf},     // a tie between the only finite ones
            {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, ninf},     // uniform but for the last
        };
        auto ref_entropy = [](const std::vector<float> &zr) {
            double m = -INFINITY, sum = 0, h = 0;
            for (float x : zr) m = std::max(m, double(x));
            for (float x : zr) sum += std::isinf(x) ? 0.0 : std::exp(x - m);
            for (float x : zr) {
                if (std::isinf(x)) continue;
                const double p = std::exp(x - m) / sum;
                if (p > 0) h -= p * std::log(p);
            }
            return h;
        };
        const int64_t V = 7, B = int64_t(rows.size());
        std::vector<float> z;
        for (const auto &r : rows) z.insert(z.end(), r.begin(), r.end());
        std::vector<int64_t> req(B), step(B, 3), tok(B);
        std::vector<double> lp(B), ent(B);
        for (int64_t r = 0; r < B; ++r) req[r] = 40 + r;
        for (double T : {0.0, 0.7, 1.0}) {
            for (double top_p : {1.0, 0.8}) {
                check(lp_cpu_sample(z.data(), B, V, V, T, top_p, 5, req.data(), step.data(), tok.data(), lp.data(), ent.data()) ==
                          LP_OK,
                      "lp_cpu_sample with -inf logits ok");
                for (int64_t r = 0; r < B; ++r) {
                    const std::vector<float> &zr = rows[r];
                    const int64_t expect = T <= 0 ? int64_t(std::max_element(zr.begin(), zr.end()) - zr.begin())
                                                  : ref_sample(zr, T, top_p, uniform(5, req[r], step[r]));
                    const double h = ref_entropy(zr);
                    const bool ok = tok[r] == expect && !std::isinf(zr[tok[r]]) && std::isfinite(ent[r]) &&
                                    std::fabs(ent[r] - h) < 1e-9 && std::isfinite(lp[r]);
                    std::snprintf(what, sizeof what, "-inf row %lld T=%g top_p=%g: token %lld (want %lld), entropy %g (want %g)",
                                  (long long)r, T, top_p, (long long)tok[r], (long long)expect, ent[r], h);
                    check(ok, what);
                }
            }
        }
        std::vector<int64_t> ids(B * 3);
        std::vector<float> probs(B * 3);
        check(lp_cpu_topk(z.data(), B, V, V, 3, ids.data(), probs.data()) == LP_OK, "lp_cpu_topk with -inf logits ok");
        check(ids[3] == 3 && probs[3] == 1.0f && probs[4] == 0.0f && probs[5] == 0.0f, "top-n: the only finite logit has p = 1");
        check(ids[6] == 1 && ids[7] == 2 && std::fabs(probs[6] - 0.5f) < 1e-7f, "top-n: tie of the finite logits, lowest id first");

        const float one = 1.25f;
        int64_t t1 = -1, r1 = 9, s1 = 0;
        double lp1 = NAN, e1 = NAN;
        check(lp_cpu_sample(&one, 1, 1, 1, 0.7, 0.8, 1, &r1, &s1, &t1, &lp1, &e1) == LP_OK && t1 == 0 && lp1 == 0.0 && e1 == 0.0,
              "V = 1: token 0, log p 0, entropy 0");
    }

    // A padded vocabulary (embedding rows beyond the tokenizer): rows of stride V whose ids
    // [V_valid, V) hold the largest logits must give exactly what the compacted rows [B, V_valid] give
    // with nothing padded, and the references above computed over [0, V_valid) only.
    for (int64_t V_valid : {1, 5, 40}) {
        const int64_t V = V_valid + 9, B = 4, n = std::min<int64_t>(V_valid, 3);
        std::vector<float> z(B * V), compact(B * V_valid);
        for (int64_t r = 0; r < B; ++r)
            for (int64_t v = 0; v < V; ++v) {
                const float x = v < V_valid ? nd(rng) : 50.f + float(v);  // padding would win every choice
                z[r * V + v] = x;
                if (v < V_valid) compact[r * V_valid + v] = x;
            }
        std::vector<int64_t> ids(B * n), ids_c(B * n);
        std::vector<float> probs(B * n), probs_c(B * n);
        check(lp_cpu_topk(z.data(), B, V, V_valid, n, ids.data(), probs.data()) == LP_OK &&
                  lp_cpu_topk(compact.data(), B, V_valid, V_valid, n, ids_c.data(), probs_c.data()) == LP_OK,
              "padded top-n ok");
        check(ids == ids_c && probs == probs_c, "padded top-n equals the compacted rows' top-n");
        for (int64_t r = 0; r < B; ++r) {
            const float *zr = compact.data() + r * V_valid;
            const int64_t best = int64_t(std::max_element(zr, zr + V_valid) - zr);
            double m = zr[best], sum = 0;
            for (int64_t v = 0; v < V_valid; ++v) sum += std::exp(zr[v] - m);
            std::snprintf(what, sizeof what, "padded top-1 V_valid=%lld row %lld is the valid arg-max with its softmax",
                          (long long)V_valid, (long long)r);
            check(ids[r * n] == best && std::fabs(probs[r * n] - 1.0 / sum) <= 1e-6 / sum, what);
        }
        std::vector<int64_t> req(B), step(B, 2), tok(B), tok_c(B);
        std::vector<double> lp(B), ent(B), lp_c(B), ent_c(B);
        for (int64_t r = 0; r < B; ++r) req[r] = 31 * r + 5;
        for (double T : {0.0, 0.7, 1.3}) {
            for (double top_p : {1.0, 0.8}) {
                check(lp_cpu_sample(z.data(), B, V, V_valid, T, top_p, 9, req.data(), step.data(), tok.data(), lp.data(),
                                    ent.data()) == LP_OK &&
                          lp_cpu_sample(compact.data(), B, V_valid, V_valid, T, top_p, 9, req.data(), step.data(),
                                        tok_c.data(), lp_c.data(), ent_c.data()) == LP_OK,
                      "padded sampling ok");
                bool ok = tok == tok_c && lp == lp_c && ent == ent_c;
                for (int64_t r = 0; r < B; ++r) {
                    std::vector<float> zr(compact.begin() + r * V_valid, compact.begin() + (r + 1) * V_valid);
                    const int64_t expect = T <= 0 ? int64_t(std::max_element(zr.begin(), zr.end()) - zr.begin())
                                                  : ref_sample(zr, T, top_p, uniform(9, req[r], step[r]));
                    ok &= tok[r] == expect && tok[r] < V_valid;
                }
                std::snprintf(what, sizeof what, "padded sampling V_valid=%lld T=%g top_p=%g: valid ids, as compacted",
                              (long long)V_valid, T, top_p);
                check(ok, what);
            }
        }
    }

    // bad arguments
    float z1 = 0;
    int64_t id = 0;
    float pr = 0;
    float z2[2] = {0, 0};
    check(lp_cpu_topk(&z1, 1, 1, 1, 2, &id, &pr) == LP_ERR_INVALID_ARGUMENT, "n > V refused");
    check(lp_cpu_topk(z2, 1, 2, 1, 2, &id, &pr) == LP_ERR_INVALID_ARGUMENT, "n > V_valid refused");
    check(lp_cpu_topk(z2, 1, 2, 3, 1, &id, &pr) == LP_ERR_INVALID_ARGUMENT, "V_valid > V refused");
    check(lp_cpu_topk(z2, 1, 2, 0, 1, &id, &pr) == LP_ERR_INVALID_ARGUMENT, "V_valid = 0 refused");
    check(lp_cpu_sample(z2, 1, 2, 3, 0.0, 1.0, 0, nullptr, nullptr, &id, nullptr, nullptr) == LP_ERR_INVALID_ARGUMENT,
          "sampling with V_valid > V refused");
    check(lp_cpu_sample(&z1, 1, 1, 1, 1.0, 1.0, 0, nullptr, nullptr, &id, nullptr, nullptr) == LP_ERR_INVALID_ARGUMENT,
          "sampling without request ids refused");
    check(lp_cpu_sample(&z1, 1, 1, 1, NAN, 1.0, 0, &id, &id, &id, nullptr, nullptr) == LP_ERR_INVALID_ARGUMENT,
          "NaN temperature refused");

    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
