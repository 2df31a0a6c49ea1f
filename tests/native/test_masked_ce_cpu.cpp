// CPU twin vs an independent float64 reference (naive: full logits per row, log-sum-exp in double).
// Random shapes including V not a multiple of the vocabulary tile, N = 1, all weights zero,
// negative weights, densities 100/12/1 %, NaN/Inf planted in masked rows, and bad arguments.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "linchpin.h"

namespace {

int g_passed = 0, g_failed = 0;

void check(bool ok, const char *what, const char *detail = "") {
    if (ok) {
        ++g_passed;
    } else {
        ++g_failed;
        std::printf("FAIL %s %s\n", what, detail);
    }
}

struct Reference {
    double loss = 0;
    std::vector<double> dh, dW, logp, entropy;
};

Reference reference(const std::vector<float> &h, const std::vector<float> &W, const std::vector<int64_t> &y,
                    const std::vector<float> &w, int64_t N, int64_t D, int64_t V, double denom) {
    Reference r;
    r.dh.assign(N * D, 0.0);
    r.dW.assign(V * D, 0.0);
    r.logp.assign(N, 0.0);
    r.entropy.assign(N, 0.0);
    std::vector<double> z(V);
    for (int64_t i = 0; i < N; ++i) {
        if (w[i] == 0.0f) continue;
        double m = -INFINITY;
        for (int64_t v = 0; v < V; ++v) {
            double s = 0;
            for (int64_t d = 0; d < D; ++d) s += (double)h[i * D + d] * W[v * D + d];
            z[v] = s;
            m = std::max(m, s);
        }
        double sum = 0, sum_z = 0;
        for (int64_t v = 0; v < V; ++v) {
            sum += std::exp(z[v] - m);
            sum_z += std::exp(z[v] - m) * z[v];
        }
        double lse = m + std::log(sum);
        r.logp[i] = z[y[i]] - lse;
        r.entropy[i] = lse - sum_z / sum;
        r.loss += -(double)w[i] * r.logp[i] / denom;
        double coef = w[i] / denom;
        for (int64_t v = 0; v < V; ++v) {
            double g = coef * (std::exp(z[v] - lse) - (v == y[i] ? 1.0 : 0.0));
            for (int64_t d = 0; d < D; ++d) {
                r.dh[i * D + d] += g * W[v * D + d];
                r.dW[v * D + d] += g * h[i * D + d];
            }
        }
    }
    return r;
}

// max |a − b| / (max |b| + tiny): one scale per tensor, robust to entries near zero.
double rel_err(const float *a, const std::vector<double> &b, const std::vector<double> &base = {}) {
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < b.size(); ++i) {
        double expect = b[i] + (base.empty() ? 0.0 : base[i]);
        double diff = std::fabs((double)a[i] - expect);
        if (!(diff <= num)) num = std::isnan(diff) ? INFINITY : diff;
        den = std::max(den, std::fabs(expect));
    }
    return num / den;
}

void run_case(std::mt19937_64 &rng, int64_t N, int64_t D, int64_t V, double density, bool negative, bool poison,
              int threads) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<float> h(N * D), W(V * D), w(N);
    std::vector<int64_t> y(N);
    for (auto &x : h) x = normal(rng);
    for (auto &x : W) x = normal(rng) * 0.5f;
    for (int64_t i = 0; i < N; ++i) {
        y[i] = (int64_t)(unit(rng) * V) % V;
        bool active = unit(rng) < density;
        w[i] = active ? (float)(negative && unit(rng) < 0.5 ? -unit(rng) - 0.1 : unit(rng) + 0.1) : 0.0f;
        if (!active && poison) {  // masked rows: garbage must not leak into any output
            h[i * D] = NAN;
            h[i * D + D - 1] = INFINITY;
            y[i] = (i % 2) ? -7 : V + 3;
        }
    }
    double denom = 0.5 + unit(rng) * N;
    Reference ref = reference(h, W, y, w, N, D, V, denom);

    std::vector<double> dW0(V * D);
    std::vector<float> dW(V * D);
    for (int64_t k = 0; k < V * D; ++k) dW[k] = (float)(dW0[k] = normal(rng));   // dW accumulates
    std::vector<float> dh(N * D, NAN), logp(N, NAN), ent(N, NAN);
    float loss = NAN;
    int status = lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), N, D, V, denom, &loss, dh.data(),
                                         dW.data(), logp.data(), ent.data(), threads);
    char name[160];
    std::snprintf(name, sizeof name, "N=%lld D=%lld V=%lld density=%.2f neg=%d poison=%d threads=%d", (long long)N,
                  (long long)D, (long long)V, density, negative, poison, threads);
    check(status == LP_OK, name, lp_last_error());
    if (status != LP_OK) return;
    double loss_err = std::fabs(loss - ref.loss) / std::max(1e-6, std::fabs(ref.loss));
    check(loss_err <= 1e-4 || std::fabs(loss - ref.loss) <= 1e-6, name, "loss");
    check(rel_err(dh.data(), ref.dh) <= 1e-4, name, "dh");
    check(rel_err(dW.data(), ref.dW, dW0) <= 1e-4, name, "dW");
    check(rel_err(logp.data(), ref.logp) <= 1e-4, name, "logp");
    check(rel_err(ent.data(), ref.entropy) <= 1e-4, name, "entropy");
    std::printf("ok   %s loss=%.6g ref=%.6g\n", name, loss, ref.loss);
}

void bad_arguments() {
    std::vector<float> h(8, 1.0f), W(12, 1.0f), w(2, 1.0f), dh(8);
    std::vector<int64_t> y{0, 1};
    float loss;
    check(lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), 2, 4, 3, 0.0, &loss, nullptr, nullptr,
                                  nullptr, nullptr, 1) == LP_ERR_INVALID_ARGUMENT, "zero denominator");
    check(std::strstr(lp_last_error(), "denominator") != nullptr, "message names the denominator");
    y[1] = 3;
    check(lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), 2, 4, 3, 1.0, &loss, nullptr, nullptr,
                                  nullptr, nullptr, 1) == LP_ERR_INVALID_ARGUMENT, "target out of range");
    check(std::strstr(lp_last_error(), "y[1]") != nullptr, "message names the row");
    y[1] = 1;
    w[0] = NAN;
    check(lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), 2, 4, 3, 1.0, &loss, nullptr, nullptr,
                                  nullptr, nullptr, 1) == LP_ERR_INVALID_ARGUMENT, "NaN weight");
    w[0] = 1.0f;
    check(lp_cpu_masked_linear_ce(h.data(), W.data(), y.data(), w.data(), 2, 0, 3, 1.0, &loss, nullptr, nullptr,
                                  nullptr, nullptr, 1) == LP_ERR_INVALID_ARGUMENT, "D = 0");
    check(lp_cpu_masked_linear_ce(h.data(), nullptr, y.data(), w.data(), 2, 4, 3, 1.0, &loss, nullptr, nullptr,
                                  nullptr, nullptr, 1) == LP_ERR_INVALID_ARGUMENT, "null W");
    check(lp_cuda_masked_linear_ce(h.data(), W.data(), LP_F32, y.data(), w.data(), 2, 4, 3, 1.0, &loss,
                                   nullptr, nullptr, nullptr, nullptr, nullptr, 0, nullptr) == LP_ERR_UNAVAILABLE,
          "CUDA entry point before lp_cuda_load");
}

}  // namespace

int main() {
    std::mt19937_64 rng(std::random_device{}());
    const int64_t shapes[][3] = {{1, 7, 5}, {1, 16, 2049}, {13, 33, 4099}, {64, 24, 300}, {200, 40, 2048},
                                 {37, 65, 6000}, {300, 8, 33}};
    const double densities[] = {1.0, 0.12, 0.01};
    for (auto &s : shapes)
        for (double d : densities)
            for (int threads : {1, 3}) run_case(rng, s[0], s[1], s[2], d, d < 1.0, d < 1.0, threads);
    run_case(rng, 50, 16, 100, 0.0, false, true, 2);    // all weights zero
    bad_arguments();
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
