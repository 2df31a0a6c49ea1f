#include "engine/token_choice.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/simd.h"

// Speed notes (a 151936-token vocabulary, a row per branch per step): the max and the exponential
// sums run in vector lanes with a polynomial double exp (exp_d below, within 2 ulp of std::exp), and
// the nucleus (top_p < 1) is found by weighted quickselect instead of sorting the vocabulary, which
// with a flat distribution keeps nearly all of it. Same rule and the same result as a full sort up to
// the order in which probabilities are summed.

namespace lp::engine {
namespace {

typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4)));

// exp(x) for x <= 0 (logit minus the row's max, divided by a temperature), in 4 double lanes:
// x = n ln2 + r with |r| <= ln2/2 (fdlibm's split of ln2, exact products for |n| < 2^21), exp(r) by
// its Taylor series to r^13 (truncation < 4e-18 relative), 2^n built in the exponent bits. x < -708
// (including -inf) gives 0, like exp's underflow.
LP_INLINE v4d exp_d(v4d x) {
    const v4d lo = v4d{} - 708.0;
    const v4d xc = x < lo ? lo : x;
    const v4d shift = v4d{} + 0x1.8p52;
    const v4d t = xc * 1.4426950408889634 + shift;   // n in the low mantissa bits
    const v4d n = t - shift;
    v4d r = xc - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    v4d p = v4d{} + 1.0 / 6227020800.0;               // 1/13!
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    v4l bits;
    std::memcpy(&bits, &t, sizeof bits);
    const v4l e = (bits << 52) + (v4l{} + (1023LL << 52));   // (n mod 2^12) << 52: n in [-1021, 0]
    v4d scale;
    std::memcpy(&scale, &e, sizeof scale);
    const v4d out = p * scale;
    return x < lo ? v4d{} : out;
}

LP_INLINE v4d load4(const float *z) {
    v4f f = *reinterpret_cast<const v4f_u *>(z);
    return __builtin_convertvector(f, v4d);
}

LP_INLINE double sum4(v4d v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// The arg-max of z[0, V), ties to the lowest id.
LP_SIMD_CLONES
int64_t argmax(const float *z, int64_t V) {
    simd::v8f m = simd::v8f{} + z[0];
    int64_t v = 0;
    for (; v + 8 <= V; v += 8) {
        const simd::v8f x = simd::load8(z + v);
        m = x > m ? x : m;
    }
    float best = m[0];
    for (int j = 1; j < 8; ++j) best = m[j] > best ? m[j] : best;
    for (; v < V; ++v) best = z[v] > best ? z[v] : best;
    for (v = 0; v < V; ++v)
        if (z[v] == best) return v;
    return 0;   // NaN logits only
}

// Σ exp(z − m) and Σ exp(z − m) · z over z[0, V) in double (a −inf logit adds nothing: 0 · −inf would be NaN).
LP_SIMD_CLONES
void exp_sums(const float *z, int64_t V, double m, double *sum, double *sum_z) {
    v4d s{}, sz{};
    int64_t v = 0;
    for (; v + 4 <= V; v += 4) {
        const v4d x = load4(z + v), e = exp_d(x - m);
        s += e;
        sz += e > 0 ? e * x : v4d{};
    }
    double a = sum4(s), b = sum4(sz);
    for (; v < V; ++v) {
        const double e = std::exp(static_cast<double>(z[v]) - m);
        a += e;
        if (e > 0) b += e * z[v];
    }
    *sum = a;
    *sum_z = b;
}

// p[v] = exp((z[v] − m) / T); returns Σ p.
LP_SIMD_CLONES
double tempered(const float *z, int64_t V, double m, double T, double *p) {
    v4d s{};
    const double inv = 1.0 / T;
    int64_t v = 0;
    for (; v + 4 <= V; v += 4) {
        v4d e = exp_d((load4(z + v) - m) * inv);
        std::memcpy(p + v, &e, sizeof e);
        s += e;
    }
    double total = sum4(s);
    for (; v < V; ++v) total += p[v] = std::exp((static_cast<double>(z[v]) - m) * inv);
    return total;
}

// Position in the order "p descending, then id ascending" (a before b).
LP_INLINE bool before(const double *p, int32_t a, int32_t b) { return p[a] != p[b] ? p[a] > p[b] : a < b; }

// Among the ids ids[0, n), the first id j in that order whose inclusive prefix mass (the mass of the
// ids before it plus its own, plus `base`) reaches X (>= X; > X when strict). Weighted quickselect:
// partition around a pivot, keep the side that holds the boundary. ids is reordered. Returns the id
// and its inclusive prefix mass; when no id reaches X (X beyond the total by rounding), the last id.
struct Hit {
    int32_t id;
    double mass;
};

Hit weighted_select(int32_t *ids, int64_t n, const double *p, double base, double X, bool strict) {
    auto reaches = [&](double m) { return strict ? m > X : m >= X; };
    Hit last{ids[0], base};
    while (n > 0) {
        // median of three as the pivot
        int32_t a = ids[0], b = ids[n / 2], c = ids[n - 1];
        int32_t pivot = before(p, a, b) ? (before(p, b, c) ? b : (before(p, a, c) ? c : a))
                                        : (before(p, a, c) ? a : (before(p, b, c) ? c : b));
        // three-way split: [0, lt) before the pivot, then the pivot, then [gt, n) after it
        int64_t lt = 0, gt = n;
        double mass_before = 0;
        for (int64_t i = 0; i < gt;) {
            const int32_t id = ids[i];
            if (id == pivot) {
                ++i;
            } else if (before(p, id, pivot)) {
                mass_before += p[id];
                std::swap(ids[lt++], ids[i++]);
            } else {
                std::swap(ids[i], ids[--gt]);
            }
        }
        if (lt > 0 && reaches(base + mass_before)) {
            n = lt;   // the boundary is among the ids before the pivot
            continue;
        }
        const double with_pivot = base + mass_before + p[pivot];
        if (reaches(with_pivot)) return Hit{pivot, with_pivot};
        last = Hit{pivot, with_pivot};
        base = with_pivot;
        ids += gt;
        n -= gt;
    }
    return last;
}

}  // namespace

void top_n(const float *z, int64_t V, int64_t n, int64_t *ids, float *probs) {
    if (n <= 0) return;
    const double m = z[argmax(z, V)];
    double sum = 0, sum_z = 0;
    exp_sums(z, V, m, &sum, &sum_z);
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

Choice choose(const float *z, int64_t V, double temperature, double top_p, double u, ChoiceScratch &scratch) {
    const int64_t best = argmax(z, V);
    const double m = z[best];
    double sum = 0, sum_z = 0;
    exp_sums(z, V, m, &sum, &sum_z);
    const double lse = m + std::log(sum);
    Choice c{best, 0, lse - sum_z / sum};
    if (temperature > 0) {
        std::vector<double> &p = scratch.p;
        p.resize(V);
        const double total = tempered(z, V, m, temperature, p.data());
        if (top_p >= 1.0) {
            // Every token, in id order (the same distribution as the sorted order; no sort needed).
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
            // The nucleus: the most probable tokens (ties to the lowest id) up to top_p of the mass,
            // ending at the first token whose inclusive prefix mass reaches top_p · total ...
            std::vector<int32_t> &ids = scratch.ids;
            ids.resize(V);
            std::iota(ids.begin(), ids.end(), 0);
            const Hit cut = weighted_select(ids.data(), V, p.data(), 0.0, top_p * total, false);
            // ... then, among the kept tokens, the first whose inclusive prefix mass exceeds u · kept mass.
            int64_t kept = 0;
            for (int64_t v = 0; v < V; ++v)
                if (v == cut.id || before(p.data(), static_cast<int32_t>(v), cut.id)) ids[kept++] = static_cast<int32_t>(v);
            c.token = weighted_select(ids.data(), kept, p.data(), 0.0, u * cut.mass, true).id;
        }
    }
    c.logprob = (double)z[c.token] - lse;
    return c;
}

}  // namespace lp::engine
