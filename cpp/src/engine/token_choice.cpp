#include "engine/token_choice.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lp::engine {

void top_n(const float *z, int64_t V, int64_t n, int64_t *ids, float *probs) {
    if (n <= 0) return;
    float m = z[0];
    for (int64_t v = 1; v < V; ++v) m = std::max(m, z[v]);
    double sum = 0;
    for (int64_t v = 0; v < V; ++v) sum += std::exp((double)z[v] - m);
    // A running list of the best n (n is small: k + 1 alternatives), kept sorted.
    int64_t have = 0;
    for (int64_t v = 0; v < V; ++v) {
        if (have == n && !(z[v] > z[ids[n - 1]])) continue;   // ties keep the earlier (lower) id
        int64_t pos = have < n ? have++ : n - 1;
        while (pos > 0 && z[v] > z[ids[pos - 1]]) {
            ids[pos] = ids[pos - 1];
            --pos;
        }
        ids[pos] = v;
    }
    for (int64_t i = 0; i < n; ++i) probs[i] = static_cast<float>(std::exp((double)z[ids[i]] - m) / sum);
}

namespace {
uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
}  // namespace

double counter_uniform(uint64_t seed, uint64_t request, uint64_t step) {
    uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ request) ^ step);
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

Choice choose(const float *z, int64_t V, double temperature, double top_p, double u, std::vector<double> &p) {
    int64_t best = 0;
    for (int64_t v = 1; v < V; ++v)
        if (z[v] > z[best]) best = v;
    const double m = z[best];
    double sum = 0, sum_z = 0;
    for (int64_t v = 0; v < V; ++v) {
        double e = std::exp((double)z[v] - m);
        sum += e;
        if (e > 0) sum_z += e * z[v];   // a -inf logit has p = 0 and adds nothing (0 * -inf would be NaN)
    }
    const double lse = m + std::log(sum);
    Choice c{best, 0, lse - sum_z / sum};
    if (temperature > 0) {
        p.resize(V);
        double total = 0;
        for (int64_t v = 0; v < V; ++v) total += p[v] = std::exp(((double)z[v] - m) / temperature);
        if (top_p >= 1.0) {
            double target = u * total, acc = 0;
            c.token = V - 1;
            for (int64_t v = 0; v < V; ++v) {
                acc += p[v];
                if (target < acc) {
                    c.token = v;
                    break;
                }
            }
        } else {
            std::vector<int64_t> order(V);
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] != p[b] ? p[a] > p[b] : a < b; });
            int64_t keep = 0;
            double mass = 0;
            while (keep < V && (keep == 0 || mass < top_p * total)) mass += p[order[keep++]];
            double target = u * mass, acc = 0;
            c.token = order[keep - 1];
            for (int64_t k = 0; k < keep; ++k) {
                acc += p[order[k]];
                if (target < acc) {
                    c.token = order[k];
                    break;
                }
            }
        }
    }
    c.logprob = (double)z[c.token] - lse;
    return c;
}

}  // namespace lp::engine
