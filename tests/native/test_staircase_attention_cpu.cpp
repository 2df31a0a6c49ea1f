// Staircase attention CPU twin vs an independent float64 reference: for every branch and suffix
// row, build that row's key/value list explicitly (shared rows [0, b) then its branch's suffix rows
// up to itself) and compute softmax attention in double, one query head at a time with GQA head
// mapping h -> h / (H / Hkv). Random shapes, branch points at 0 / mid / T, suffix lengths 1..n,
// a trajectory with T = 0, and bad arguments.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
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

struct Case {
    int64_t T, H, Hkv, d;
    std::vector<int64_t> b;        // branch points
    std::vector<int64_t> lengths;  // suffix lengths
};

std::vector<double> reference(const Case &c, const std::vector<float> &q, const std::vector<float> &ks,
                              const std::vector<float> &vs, const std::vector<float> &kx, const std::vector<float> &vx,
                              const std::vector<int64_t> &off, float scale) {
    const int64_t H = c.H, Hkv = c.Hkv, d = c.d, group = H / Hkv;
    std::vector<double> out(off.back() * H * d, 0.0);
    for (size_t i = 0; i < c.b.size(); ++i) {
        for (int64_t j = 0; j < c.lengths[i]; ++j) {
            int64_t r = off[i] + j;
            // The row's keys/values: shared [0, b_i) then suffix rows off[i] .. r.
            std::vector<const float *> keys, values;
            for (int64_t t = 0; t < c.b[i]; ++t) {
                keys.push_back(&ks[t * Hkv * d]);
                values.push_back(&vs[t * Hkv * d]);
            }
            for (int64_t u = off[i]; u <= r; ++u) {
                keys.push_back(&kx[u * Hkv * d]);
                values.push_back(&vx[u * Hkv * d]);
            }
            for (int64_t h = 0; h < H; ++h) {
                int64_t g = h / group;
                std::vector<double> s(keys.size());
                double m = -INFINITY;
                for (size_t t = 0; t < keys.size(); ++t) {
                    double acc = 0;
                    for (int64_t e = 0; e < d; ++e) acc += (double)q[(r * H + h) * d + e] * keys[t][g * d + e];
                    s[t] = acc * scale;
                    m = std::max(m, s[t]);
                }
                double z = 0;
                for (double &x : s) z += (x = std::exp(x - m));
                for (int64_t e = 0; e < d; ++e) {
                    double acc = 0;
                    for (size_t t = 0; t < keys.size(); ++t) acc += s[t] * values[t][g * d + e];
                    out[(r * H + h) * d + e] = acc / z;
                }
            }
        }
    }
    return out;
}

void run_case(const Case &c, std::mt19937 &rng, int threads, const char *name) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<int64_t> off{0};
    for (int64_t n : c.lengths) off.push_back(off.back() + n);
    const int64_t S = off.back();
    auto fill = [&](int64_t n) {
        std::vector<float> v(n);
        for (float &x : v) x = normal(rng);
        return v;
    };
    auto q = fill(S * c.H * c.d), ks = fill(c.T * c.Hkv * c.d), vs = fill(c.T * c.Hkv * c.d);
    auto kx = fill(S * c.Hkv * c.d), vx = fill(S * c.Hkv * c.d);
    float scale = 1.0f / std::sqrt((float)c.d) * 1.7f;   // sharper than usual so errors in the max show
    std::vector<float> out(S * c.H * c.d, NAN);
    int status = lp_cpu_staircase_attention(q.data(), c.T ? ks.data() : nullptr, c.T ? vs.data() : nullptr, c.T,
                                            kx.data(), vx.data(), c.b.data(), off.data(), (int64_t)c.b.size(), nullptr,
                                            S, c.H, c.Hkv, c.d, scale, out.data(), threads);
    char what[256];
    std::snprintf(what, sizeof what, "%s: status %d (%s)", name, status, lp_last_error());
    check(status == LP_OK, what);
    auto ref = reference(c, q, ks, vs, kx, vx, off, scale);
    double max_err = 0, max_ref = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        // Written so a NaN output (an element the wrapper never wrote: out starts as NaN) fails:
        // std::max(max_err, NaN) would keep max_err and let it pass.
        const double err = std::fabs(out[i] - ref[i]);
        if (!(err <= max_err)) max_err = std::isnan(err) ? INFINITY : err;
        max_ref = std::max(max_ref, std::fabs(ref[i]));
    }
    std::snprintf(what, sizeof what, "%s (T=%lld H=%lld Hkv=%lld d=%lld, %zu branches, threads %d): max abs err %.3g",
                  name, (long long)c.T, (long long)c.H, (long long)c.Hkv, (long long)c.d, c.b.size(), threads, max_err);
    check(max_err <= 2e-5 * std::max(1.0, max_ref), what);
    std::printf("%s\n", what);

    // Query rows: a shuffled subset of the suffix rows (always each branch's last row, as a decode step
    // asks, plus random others), their queries packed in list order. Each output must equal that row's
    // output of the full call bit for bit: a row's arithmetic never depends on which rows are computed.
    std::vector<int64_t> rows;
    for (size_t i = 0; i < c.b.size(); ++i) rows.push_back(off[i + 1] - 1);
    for (int64_t r = 0; r < S; ++r)
        if (rng() % 3 == 0 && std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
    std::shuffle(rows.begin(), rows.end(), rng);
    const int64_t Q = int64_t(rows.size()), hd = c.H * c.d;
    std::vector<float> qq(Q * hd), out_q(Q * hd, NAN);
    for (int64_t j = 0; j < Q; ++j) std::copy(q.begin() + rows[j] * hd, q.begin() + (rows[j] + 1) * hd, qq.begin() + j * hd);
    status = lp_cpu_staircase_attention(qq.data(), c.T ? ks.data() : nullptr, c.T ? vs.data() : nullptr, c.T, kx.data(),
                                        vx.data(), c.b.data(), off.data(), (int64_t)c.b.size(), rows.data(), Q, c.H,
                                        c.Hkv, c.d, scale, out_q.data(), threads);
    bool same = status == LP_OK;
    for (int64_t j = 0; j < Q && same; ++j)
        for (int64_t e = 0; e < hd; ++e) same = same && out_q[j * hd + e] == out[rows[j] * hd + e];
    std::snprintf(what, sizeof what, "%s: %lld query rows of %lld equal the full call's rows bit for bit", name,
                  (long long)Q, (long long)S);
    check(same, what);
}

void bad_arguments() {
    float x[64] = {0};
    int64_t b[1] = {5}, off[2] = {0, 1}, empty_off[2] = {0, 0}, bad_row[1] = {1};
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, off, 1, nullptr, 1, 2, 1, 4, 1.0f, x, 1) == LP_ERR_INVALID_ARGUMENT,
          "branch point beyond T rejected");
    check(std::strstr(lp_last_error(), "branch_points[0]=5") != nullptr, "message names the branch point");
    b[0] = 2;
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, empty_off, 1, nullptr, 0, 2, 1, 4, 1.0f, x, 1) ==
              LP_ERR_INVALID_ARGUMENT,
          "empty suffix rejected");
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, off, 1, nullptr, 1, 3, 2, 4, 1.0f, x, 1) == LP_ERR_INVALID_ARGUMENT,
          "H not a multiple of Hkv rejected");
    check(lp_cpu_staircase_attention(x, nullptr, x, 4, x, x, b, off, 1, nullptr, 1, 2, 1, 4, 1.0f, x, 1) ==
              LP_ERR_INVALID_ARGUMENT,
          "null shared keys rejected");
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, off, 1, nullptr, 1, 2, 1, 4, NAN, x, 1) == LP_ERR_INVALID_ARGUMENT,
          "NaN scale rejected");
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, off, 1, bad_row, 1, 2, 1, 4, 1.0f, x, 1) == LP_ERR_INVALID_ARGUMENT &&
              std::strstr(lp_last_error(), "query_rows[0]=1") != nullptr,
          "query row outside the suffix rows rejected");
    check(lp_cpu_staircase_attention(x, x, x, 4, x, x, b, off, 1, nullptr, 2, 2, 1, 4, 1.0f, x, 1) == LP_ERR_INVALID_ARGUMENT,
          "without query_rows n_queries must be S");
}

}  // namespace

int main() {
    std::mt19937 rng(20261124);
    // Branch points at 0, mid and end; suffix lengths 1..n; tiles (64) crossed and not.
    run_case({10, 4, 2, 8, {0, 5, 10}, {1, 2, 3}}, rng, 1, "small GQA 4/2");
    run_case({150, 8, 2, 16, {0, 1, 63, 64, 65, 100, 149, 150}, {1, 2, 3, 4, 5, 6, 7, 8}}, rng, 2, "GQA 8/2 across tiles");
    run_case({97, 6, 1, 12, {97, 0, 40, 40}, {5, 1, 3, 9}}, rng, 3, "MQA 6/1, d not a multiple of 8");
    run_case({33, 4, 4, 32, {17, 33}, {4, 1}}, rng, 1, "MHA 4/4");
    run_case({0, 4, 2, 8, {0, 0}, {3, 2}}, rng, 1, "empty trajectory");
    std::uniform_int_distribution<int> pick(0, 1 << 20);
    for (int trial = 0; trial < 6; ++trial) {
        int64_t Hkv = 1 + pick(rng) % 4, group = 1 + pick(rng) % 4, d = 4 + pick(rng) % 40, T = pick(rng) % 300;
        int64_t n = 1 + pick(rng) % 12;
        Case c{T, Hkv * group, Hkv, d, {}, {}};
        for (int64_t i = 0; i < n; ++i) {
            c.b.push_back(i == 0 ? 0 : i == 1 ? T : pick(rng) % (T + 1));
            c.lengths.push_back(1 + pick(rng) % 10);
        }
        char name[32];
        std::snprintf(name, sizeof name, "random %d", trial);
        run_case(c, rng, 1 + trial % 3, name);
    }
    bad_arguments();
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
