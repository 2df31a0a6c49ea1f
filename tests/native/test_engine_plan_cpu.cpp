// The CUDA engine's attention plan (kernels/engine_plan.h), tested on the CPU: rows of every kind the
// engine produces (prefill rows reading their own trajectory, branch decode rows with a shared prefix
// and a suffix slot, rows with no shared store) are mapped onto staircase calls exactly as
// engine_backend.cu does (gather KV by plan entry and q by query gather, one call per shared-store
// group with its query rows, scatter by query source), run through the staircase CPU twin
// (lp_cpu_staircase_attention), and compared with naive per-row attention over the row's key set
// computed here in double. A decode step of B branches, whatever their suffix lengths, computes
// exactly B query rows (one per active branch: linear decode cost). Also: bad rows are refused.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine_plan.h"
#include "linchpin.h"

namespace {

constexpr int64_t kLayers = 2, kLayer = 1, H = 4, Hkv = 2, d = 8, kvd = Hkv * d, V = 50;

struct Store {
    float *data;
    int64_t capacity;
};

struct Row {
    int64_t token, position;
    Store *dest;
    int64_t dest_index;
    const Store *shared;
    int64_t prefix;
    const Store *suffix;
    int64_t n_suffix;
};

// Keys (kv = 0) or values (kv = 1) of one position, in the layout [layers][2][capacity][kvd].
const float *at(const Store *s, int kv, int64_t pos) { return s->data + ((2 * kLayer + kv) * s->capacity + pos) * kvd; }

struct Owned {
    std::vector<float> buf;
    Store store;
    Owned(int64_t capacity, std::mt19937 &rng) : buf(static_cast<size_t>(kLayers * 2 * capacity * kvd)) {
        std::normal_distribution<float> n(0.0f, 1.0f);
        for (float &x : buf) x = n(rng);
        store = Store{buf.data(), capacity};
    }
};

// Naive attention of one row over shared [0, prefix) and suffix [0, n_suffix), in double.
std::vector<double> naive(const Row &row, const float *q, double scale) {
    std::vector<const Store *> stores;
    std::vector<int64_t> positions;
    for (int64_t p = 0; p < row.prefix; ++p) stores.push_back(row.shared), positions.push_back(p);
    for (int64_t p = 0; p < row.n_suffix; ++p) stores.push_back(row.suffix), positions.push_back(p);
    std::vector<double> out(static_cast<size_t>(H * d), 0.0);
    for (int64_t h = 0; h < H; ++h) {
        const int64_t kh = h / (H / Hkv);
        std::vector<double> s(stores.size());
        double m = -INFINITY, sum = 0;
        for (size_t j = 0; j < stores.size(); ++j) {
            const float *k = at(stores[j], 0, positions[j]) + kh * d;
            double dot = 0;
            for (int64_t c = 0; c < d; ++c) dot += double(q[h * d + c]) * k[c];
            s[j] = dot * scale;
            m = std::max(m, s[j]);
        }
        for (double &x : s) sum += (x = std::exp(x - m));
        for (size_t j = 0; j < stores.size(); ++j) {
            const float *v = at(stores[j], 1, positions[j]) + kh * d;
            for (int64_t c = 0; c < d; ++c) out[h * d + c] += s[j] / sum * v[c];
        }
    }
    return out;
}

}  // namespace

int main() {
    std::mt19937 rng(1124);
    Owned trajA(30, rng), trajB(25, rng), slot1(8, rng), slot2(8, rng), slot3(8, rng), slot4(8, rng);
    std::vector<Row> rows = {
        {1, 0, &trajA.store, 0, &trajA.store, 1, nullptr, 0},      // prefill rows of trajectory A
        {2, 5, &trajA.store, 5, &trajA.store, 6, nullptr, 0},
        {3, 29, &trajA.store, 29, &trajA.store, 30, nullptr, 0},
        {4, 14, &slot1.store, 2, &trajA.store, 12, &slot1.store, 3},   // branch of A at 12, third step
        {5, 0, &slot2.store, 0, &trajB.store, 0, &slot2.store, 1},     // branch of B at 0, first step
        {6, 32, &slot3.store, 7, &trajB.store, 25, &slot3.store, 8},   // branch of B at its end, last slot position
        {7, 3, &slot4.store, 3, nullptr, 0, &slot4.store, 4},          // no shared store
        {8, 7, &trajB.store, 7, &trajB.store, 8, nullptr, 0},          // a prefill row of B
    };
    const int64_t R = static_cast<int64_t>(rows.size());
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> q(static_cast<size_t>(R * H * d));
    for (float &x : q) x = n(rng);

    lpcuda::engine_plan::Plan plan;
    std::string bad = lpcuda::engine_plan::build(rows.data(), R, V, &plan);
    if (!bad.empty()) {
        std::printf("FAIL: valid rows refused: %s\n", bad.c_str());
        return 1;
    }
    const std::vector<int64_t> &P = plan.data;
    int failures = 0;
    for (int64_t r = 0; r < R; ++r) {
        if (P[plan.at_tok + r] != rows[r].token || P[plan.at_pos + r] != rows[r].position ||
            P[plan.at_dest + 3 * r] != lpcuda::engine_plan::address(rows[r].dest->data) ||
            P[plan.at_dest + 3 * r + 1] != rows[r].dest->capacity || P[plan.at_dest + 3 * r + 2] != rows[r].dest_index) {
            std::printf("FAIL: row %lld: token/position/destination not in the plan\n", (long long)r);
            ++failures;
        }
    }
    if (plan.groups.size() != 3) {   // trajectory A, trajectory B, no shared store
        std::printf("FAIL: %zu groups, expected 3\n", plan.groups.size());
        ++failures;
    }

    // One query row per row: R queries in all, one per row in each group.
    int64_t queries = 0;
    for (const auto &g : plan.groups) queries += g.n;
    if (plan.Q != R || queries != R) {
        std::printf("FAIL: %lld query rows (groups: %lld) for %lld rows\n", (long long)plan.Q, (long long)queries, (long long)R);
        ++failures;
    }
    for (int64_t r = 0; r < R; ++r) {
        if (P[plan.at_qgather + P[plan.at_src + r]] != r) {
            std::printf("FAIL: row %lld: its query index does not gather its q\n", (long long)r);
            ++failures;
        }
    }

    // What engine_backend.cu does on the device, on the host: gather, staircase per group, scatter.
    const int64_t G = plan.G, Q = plan.Q;
    std::vector<float> qg(static_cast<size_t>(Q * H * d)), kg(static_cast<size_t>(G * kvd)), vg(kg.size());
    std::vector<float> outg(qg.size(), NAN);   // poison: a query the staircase never writes stays NaN
    for (int64_t g = 0; g < G; ++g) {
        const int64_t *e = &P[plan.at_gather + 3 * g];
        Store src{reinterpret_cast<float *>(static_cast<uintptr_t>(e[0])), e[1]};
        for (int64_t c = 0; c < kvd; ++c) {
            kg[g * kvd + c] = at(&src, 0, e[2])[c];
            vg[g * kvd + c] = at(&src, 1, e[2])[c];
        }
    }
    for (int64_t j = 0; j < Q; ++j)
        for (int64_t c = 0; c < H * d; ++c) qg[j * H * d + c] = q[P[plan.at_qgather + j] * H * d + c];
    const float scale = 1.0f / std::sqrt(float(d));
    for (const auto &g : plan.groups) {
        const float *ks = nullptr, *vs = nullptr;
        if (g.shared_data != nullptr && g.T > 0) {
            const float *base = static_cast<const float *>(g.shared_data);
            ks = base + (2 * kLayer) * g.shared_capacity * kvd;
            vs = base + (2 * kLayer + 1) * g.shared_capacity * kvd;
        }
        int rc = lp_cpu_staircase_attention(qg.data() + g.q0 * H * d, ks, vs, ks ? g.T : 0, kg.data() + g.g0 * kvd,
                                            vg.data() + g.g0 * kvd, &P[plan.at_bp + g.bp_at], &P[plan.at_off + g.off_at],
                                            g.n, &P[plan.at_qrows + g.q0], g.n, H, Hkv, d, scale,
                                            outg.data() + g.q0 * H * d, 1);
        if (rc != LP_OK) {
            std::printf("FAIL: lp_cpu_staircase_attention: %s\n", lp_last_error());
            return 1;
        }
    }
    for (int64_t r = 0; r < R; ++r) {
        const float *got = outg.data() + P[plan.at_src + r] * H * d;
        const std::vector<double> want = naive(rows[r], q.data() + r * H * d, scale);
        double worst = 0;
        for (int64_t c = 0; c < H * d; ++c) {   // NaN-safe: an unwritten (NaN) output must fail
            const double err = std::fabs(got[c] - want[c]);
            if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err;
        }
        if (worst > 1e-5) {
            std::printf("FAIL: row %lld: attention differs from naive by %g\n", (long long)r, worst);
            ++failures;
        }
    }

    // A decode step as the engine builds it: B active branches of one trajectory at different suffix
    // lengths (1 .. 8 positions) plus branches of another trajectory. The staircase must be asked for
    // exactly B query rows in all, one per active branch, however long the suffixes are.
    {
        std::vector<Owned> slots;
        slots.reserve(6);
        for (int i = 0; i < 6; ++i) slots.emplace_back(8, rng);
        std::vector<Row> step;
        const int64_t lengths[6] = {1, 8, 3, 5, 2, 7};
        for (int i = 0; i < 6; ++i) {
            const Owned &traj = i < 4 ? trajA : trajB;
            const int64_t point = 3 + 4 * i;
            step.push_back(Row{int64_t(10 + i), point + lengths[i] - 1, &slots[i].store, lengths[i] - 1, &traj.store, point,
                               &slots[i].store, lengths[i]});
        }
        lpcuda::engine_plan::Plan dp;
        bad = lpcuda::engine_plan::build(step.data(), int64_t(step.size()), V, &dp);
        int64_t gathered = 0, in_groups = 0;
        for (const auto &g : dp.groups) gathered += g.S, in_groups += g.n;
        std::printf("decode step: %zu branches, %lld query rows, %lld KV rows gathered, %zu staircase calls\n",
                    step.size(), (long long)dp.Q, (long long)gathered, dp.groups.size());
        if (!bad.empty() || dp.Q != int64_t(step.size()) || in_groups != int64_t(step.size()) || gathered != 26 ||
            dp.groups.size() != 2) {
            std::printf("FAIL: a decode step of %zu branches asks for %lld query rows (%s)\n", step.size(),
                        (long long)dp.Q, bad.c_str());
            ++failures;
        }
    }

    // Refusals: a row that attends to nothing, a token outside the vocabulary, a prefix beyond its store.
    Row nothing = {1, 0, &slot1.store, 0, &trajA.store, 0, nullptr, 0};
    Row token = rows[0];
    token.token = V;
    Row beyond = rows[3];
    beyond.prefix = 31;
    for (const Row &r : {nothing, token, beyond}) {
        if (lpcuda::engine_plan::build(&r, 1, V, &plan).empty()) {
            std::printf("FAIL: a bad row was accepted (token %lld prefix %lld)\n", (long long)r.token, (long long)r.prefix);
            ++failures;
        }
    }
    if (failures > 0) return 1;
    std::printf("OK: %lld rows, %lld gathered rows, %zu groups\n", (long long)R, (long long)G, plan.groups.size());
    return 0;
}
