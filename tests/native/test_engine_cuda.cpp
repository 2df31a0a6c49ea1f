// The rollout engine's CUDA backend against its CPU backend, through the public C ABI only
// (lp_engine_* with LP_ENGINE_DEVICE_CUDA). The CPU engine is the reference: it is held to the Java
// model (itself checked against float64 and transformers) at fp32 rel. 1e-4 by RolloutEngineTest.
// For every family:
//   - fp32 device logits (cuBLAS if it loads, and the own tiled GEMM with LINCHPIN_CUBLAS_LIB=off)
//     == CPU logits, relative error < 1e-4 over a 70-token prefill (crosses the 64-row tiles); which
//     GEMM path each engine took is asserted from lp_engine_describe (cuBLAS required where
//     LINCHPIN_REQUIRE_CUBLAS=1);
//   - fp32 greedy branch rollouts == CPU token for token;
//   - bf16 logits within relative 3e-2 of CPU, and the same arg-max wherever the CPU's top-2 gap is
//     more than 6x the row's RMS bf16 deviation (bf16 keeps 8 significant bits, unit roundoff 2^-9 ≈
//     2e-3; weights, GEMM inputs and cached K/V are each rounded once per layer, about ten roundings
//     on the path to a logit in these 2-layer models, which add up to ~1e-2: 3e-2 leaves a 3x margin;
//     a float64 numpy simulation of exactly these roundings on these shapes gave 0.66e-2 to 0.88e-2,
//     and 55 to 68 of 70 rows confident, all with the same arg-max);
//   - bf16 KV takes half the device bytes of fp32 and the budget counts them;
//   - weights replaced after finalize are uploaded (lp_engine_finalize again).
// Exit 77 (ctest skip) where the CUDA backend cannot load or no GPU exists.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cuda_test_support.h"
#include "linchpin.h"

namespace {

struct Model {
    const char *name;
    int family;
    int64_t V, D, F, L, H, Hkv, d;
    double eps, theta;
    int flags;   // LP_ENGINE_TIED_EMBEDDINGS | QKV_BIAS | O_BIAS | MLP_BIAS
};

using Tensors = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// Hugging Face parameter names and shapes of each family, written out here from the checkpoints'
// layout (not taken from the engine).
Tensors layout(const Model &m) {
    Tensors t;
    const int64_t q = m.H * m.d, kv = m.Hkv * m.d;
    const bool olmo = m.family == LP_FAMILY_OLMO2, qwen3 = m.family == LP_FAMILY_QWEN3;
    t.push_back({"model.embed_tokens.weight", {m.V, m.D}});
    for (int64_t l = 0; l < m.L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        if (!olmo) t.push_back({p + "input_layernorm.weight", {m.D}});
        for (const char *w : {"q", "k", "v"})
            t.push_back({p + "self_attn." + w + "_proj.weight", {w[0] == 'q' ? q : kv, m.D}});
        t.push_back({p + "self_attn.o_proj.weight", {m.D, q}});
        if (m.flags & LP_ENGINE_QKV_BIAS)
            for (const char *w : {"q", "k", "v"}) t.push_back({p + "self_attn." + w + "_proj.bias", {w[0] == 'q' ? q : kv}});
        if (m.flags & LP_ENGINE_O_BIAS) t.push_back({p + "self_attn.o_proj.bias", {m.D}});
        if (qwen3 || olmo) {
            t.push_back({p + "self_attn.q_norm.weight", {qwen3 ? m.d : q}});
            t.push_back({p + "self_attn.k_norm.weight", {qwen3 ? m.d : kv}});
        }
        t.push_back({p + "mlp.gate_proj.weight", {m.F, m.D}});
        t.push_back({p + "mlp.up_proj.weight", {m.F, m.D}});
        t.push_back({p + "mlp.down_proj.weight", {m.D, m.F}});
        if (m.flags & LP_ENGINE_MLP_BIAS) {
            t.push_back({p + "mlp.gate_proj.bias", {m.F}});
            t.push_back({p + "mlp.up_proj.bias", {m.F}});
            t.push_back({p + "mlp.down_proj.bias", {m.D}});
        }
        t.push_back({p + "post_attention_layernorm.weight", {m.D}});
        if (olmo) t.push_back({p + "post_feedforward_layernorm.weight", {m.D}});
    }
    t.push_back({"model.norm.weight", {m.D}});
    if (!(m.flags & LP_ENGINE_TIED_EMBEDDINGS)) t.push_back({"lm_head.weight", {m.V, m.D}});
    return t;
}

// Random weights in every role (norms 1 ± 0.2, biases ± 0.1, matrices std 0.15, embeddings std 1).
std::vector<std::vector<float>> random_weights(const Tensors &t, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<std::vector<float>> out;
    for (const auto &[name, shape] : t) {
        int64_t n = 1;
        for (int64_t s : shape) n *= s;
        std::vector<float> w(static_cast<size_t>(n));
        const bool norm = name.find("norm.weight") != std::string::npos, bias = name.find(".bias") != std::string::npos;
        const bool embed = name.find("embed") != std::string::npos;
        for (float &x : w) {
            float z = normal(rng);
            x = norm ? 1.0f + 0.2f * z : bias ? 0.1f * z : embed ? z : 0.15f * z;
        }
        out.push_back(std::move(w));
    }
    return out;
}

int g_failures = 0;

void expect(bool ok, const std::string &what) {
    if (!ok) {
        std::printf("FAIL: %s\n", what.c_str());
        ++g_failures;
    }
}

#define LP_OK_OR_DIE(expr)                                                                         \
    do {                                                                                           \
        int lp_rc_ = (expr);                                                                       \
        if (lp_rc_ != LP_OK) {                                                                     \
            std::printf("FAIL: %s returned %d: %s\n", #expr, lp_rc_, lp_last_error());             \
            std::exit(1);                                                                          \
        }                                                                                          \
    } while (0)

lp_engine *make_engine(const Model &m, const Tensors &t, const std::vector<std::vector<float>> &w, int device_flags,
                       int64_t budget) {
    std::vector<float> inv(static_cast<size_t>(m.d / 2));
    for (int64_t i = 0; i < m.d / 2; ++i)
        inv[i] = static_cast<float>(1.0 / std::pow(m.theta, static_cast<double>(2 * i) / static_cast<double>(m.d)));
    lp_engine *e = nullptr;
    LP_OK_OR_DIE(lp_engine_create(m.family, m.V, m.D, m.F, m.L, m.H, m.Hkv, m.d, m.eps, m.flags | device_flags,
                                  inv.data(), budget, 1, &e));
    for (size_t i = 0; i < t.size(); ++i)
        LP_OK_OR_DIE(lp_engine_set_weight(e, t[i].first.c_str(), w[i].data(), t[i].second.data(),
                                          static_cast<int64_t>(t[i].second.size())));
    LP_OK_OR_DIE(lp_engine_finalize(e));
    return e;
}

std::vector<float> logits(lp_engine *e, const std::vector<int64_t> &tokens, int64_t V) {
    std::vector<float> out(tokens.size() * static_cast<size_t>(V));
    int64_t len = static_cast<int64_t>(tokens.size()), id = 0;
    LP_OK_OR_DIE(lp_engine_prefill(e, tokens.data(), &len, 1, 0, &id, nullptr, nullptr, out.data()));
    LP_OK_OR_DIE(lp_engine_release(e, id));
    return out;
}

double rel_err(const std::vector<float> &a, const std::vector<float> &ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        num += (double(a[i]) - ref[i]) * (double(a[i]) - ref[i]);
        den += double(ref[i]) * ref[i];
    }
    return std::sqrt(num / den);
}

// Greedy rollouts of branches at several points of one trajectory; tokens of each branch.
std::vector<std::vector<int64_t>> rollouts(lp_engine *e, const std::vector<int64_t> &traj, int64_t V) {
    int64_t len = static_cast<int64_t>(traj.size()), id = 0;
    LP_OK_OR_DIE(lp_engine_prefill(e, traj.data(), &len, 1, 0, &id, nullptr, nullptr, nullptr));
    const std::vector<int64_t> points = {0, 1, 9, len - 1, len};
    std::vector<int64_t> ids(points.size(), id), forced, requests;
    for (size_t i = 0; i < points.size(); ++i) {
        forced.push_back((7 * static_cast<int64_t>(i) + 3) % V);
        requests.push_back(static_cast<int64_t>(i));
    }
    const int64_t n = static_cast<int64_t>(points.size()), max_new = 10, no_stop = 0;
    LP_OK_OR_DIE(lp_engine_rollout_begin(e, ids.data(), points.data(), forced.data(), requests.data(), n, max_new,
                                         nullptr, 0, nullptr, &no_stop, 0, 0.0, 1.0, 0, 3));
    std::vector<int64_t> finished(points.size());
    int64_t n_finished = 0;
    int done = 0;
    while (!done) LP_OK_OR_DIE(lp_engine_rollout_step(e, finished.data(), &n_finished, &done));
    std::vector<std::vector<int64_t>> out;
    for (int64_t i = 0; i < n; ++i) {
        std::vector<int64_t> tokens(static_cast<size_t>(max_new));
        int64_t length = 0;
        double lp = 0, ent = 0;
        LP_OK_OR_DIE(lp_engine_rollout_result(e, i, tokens.data(), max_new, &length, &lp, &ent));
        tokens.resize(static_cast<size_t>(length));
        out.push_back(tokens);
    }
    LP_OK_OR_DIE(lp_engine_rollout_end(e));
    LP_OK_OR_DIE(lp_engine_release(e, id));
    return out;
}

std::string describe(lp_engine *e) {
    char buf[512];
    LP_OK_OR_DIE(lp_engine_describe(e, buf, sizeof buf));
    return buf;
}

// bf16 arg-max agrees with the CPU's wherever the CPU's top-2 gap exceeds 6x the row's RMS deviation.
void check_confident_argmax(const std::vector<float> &bf, const std::vector<float> &cpu, int64_t V, const std::string &what) {
    const int64_t rows = static_cast<int64_t>(cpu.size()) / V;
    int64_t checked = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const float *c = cpu.data() + r * V, *b = bf.data() + r * V;
        int64_t best = 0;
        double ss = 0;
        for (int64_t i = 0; i < V; ++i) {
            if (c[i] > c[best]) best = i;
            ss += (double(b[i]) - c[i]) * (double(b[i]) - c[i]);
        }
        double second = -INFINITY;
        for (int64_t i = 0; i < V; ++i)
            if (i != best) second = std::max(second, double(c[i]));
        if (c[best] - second <= 6.0 * std::sqrt(ss / double(V))) continue;
        ++checked;
        const int64_t bbest = std::max_element(b, b + V) - b;
        expect(bbest == best, what + ": bf16 arg-max differs at a confident row " + std::to_string(r));
    }
    expect(checked > rows / 4, what + ": too few confident rows to compare (" + std::to_string(checked) + ")");
}

}  // namespace

int main() {
    const int skip = lp_test_load_cuda_or_skip();
    if (skip >= 0) return skip;

    const Model models[] = {
        {"llama-biases", LP_FAMILY_LLAMA, 128, 64, 96, 2, 4, 2, 16, 1e-6, 10000.0,
         LP_ENGINE_QKV_BIAS | LP_ENGINE_O_BIAS | LP_ENGINE_MLP_BIAS},
        {"qwen2-tied", LP_FAMILY_QWEN2, 128, 64, 96, 2, 4, 2, 16, 1e-6, 1000000.0,
         LP_ENGINE_TIED_EMBEDDINGS | LP_ENGINE_QKV_BIAS},
        {"qwen3-headdim", LP_FAMILY_QWEN3, 128, 64, 96, 2, 4, 2, 24, 1e-6, 1000000.0, LP_ENGINE_TIED_EMBEDDINGS},
        {"olmo2-mha", LP_FAMILY_OLMO2, 128, 64, 96, 2, 4, 4, 16, 1e-5, 500000.0, 0},
    };
    const int64_t budget = 64LL << 20;
    std::mt19937_64 rng(20261124);
    for (const Model &m : models) {
        const std::string name = m.name;
        const Tensors t = layout(m);
        const auto w = random_weights(t, rng());
        std::vector<int64_t> tokens(70), traj(20);
        for (auto &x : tokens) x = static_cast<int64_t>(rng() % static_cast<uint64_t>(m.V));
        for (auto &x : traj) x = static_cast<int64_t>(rng() % static_cast<uint64_t>(m.V));

        lp_engine *cpu = make_engine(m, t, w, 0, budget);
        lp_engine *f32 = make_engine(m, t, w, LP_ENGINE_DEVICE_CUDA, budget);
        const char *cublas_env = std::getenv("LINCHPIN_CUBLAS_LIB");
        const std::string saved = cublas_env ? cublas_env : "";
        setenv("LINCHPIN_CUBLAS_LIB", "off", 1);
        lp_engine *own = make_engine(m, t, w, LP_ENGINE_DEVICE_CUDA, budget);
        if (cublas_env) setenv("LINCHPIN_CUBLAS_LIB", saved.c_str(), 1);
        else unsetenv("LINCHPIN_CUBLAS_LIB");
        lp_engine *bf16 = make_engine(m, t, w, LP_ENGINE_DEVICE_CUDA | LP_ENGINE_CUDA_BF16, budget);
        std::printf("%s: %s | %s | %s\n", m.name, describe(f32).c_str(), describe(own).c_str(), describe(bf16).c_str());
        // Which GEMM ran: the forced engine must be on the own kernel; the others on cuBLAS where it
        // loads. LINCHPIN_REQUIRE_CUBLAS=1 (the GPU kit sets it when it found a libcublas) makes a
        // fallback a failure, so "fp32 with cuBLAS" cannot silently test the own kernel twice.
        expect(describe(own).find("GEMM: own tiled GEMM (cuBLAS disabled by LINCHPIN_CUBLAS_LIB=off)") != std::string::npos,
               name + ": the engine made with LINCHPIN_CUBLAS_LIB=off uses the own GEMM: " + describe(own));
        const bool f32_cublas = describe(f32).find("GEMM: cuBLAS (") != std::string::npos;
        const bool bf16_cublas = describe(bf16).find("GEMM: cuBLAS (") != std::string::npos;
        expect(f32_cublas == bf16_cublas, name + ": fp32 and bf16 engines took different GEMM paths");
        if (const char *req = std::getenv("LINCHPIN_REQUIRE_CUBLAS"); req && std::strcmp(req, "1") == 0)
            expect(f32_cublas, name + ": LINCHPIN_REQUIRE_CUBLAS=1 but the fp32 engine uses " + describe(f32));
        std::printf("  GEMM path of the default engines: %s\n", f32_cublas ? "cuBLAS" : "own tiled GEMM (cuBLAS did not load)");

        const auto ref = logits(cpu, tokens, m.V);
        const double e_f32 = rel_err(logits(f32, tokens, m.V), ref), e_own = rel_err(logits(own, tokens, m.V), ref);
        const auto bf = logits(bf16, tokens, m.V);
        const double e_bf16 = rel_err(bf, ref);
        std::printf("  logits rel. error vs CPU: fp32 %.3g, fp32 own GEMM %.3g, bf16 %.3g\n", e_f32, e_own, e_bf16);
        expect(e_f32 < 1e-4, name + ": fp32 logits");
        expect(e_own < 1e-4, name + ": fp32 own-GEMM logits");
        expect(e_bf16 < 3e-2, name + ": bf16 logits");
        check_confident_argmax(bf, ref, m.V, name);

        const auto r_cpu = rollouts(cpu, traj, m.V);
        expect(rollouts(f32, traj, m.V) == r_cpu, name + ": fp32 greedy rollouts differ from CPU");
        expect(rollouts(own, traj, m.V) == r_cpu, name + ": fp32 own-GEMM greedy rollouts differ from CPU");

        expect(2 * lp_engine_kv_bytes_per_position(bf16) == lp_engine_kv_bytes_per_position(f32),
               name + ": bf16 KV is half the bytes of fp32");
        expect(lp_engine_kv_bytes_per_position(f32) == lp_engine_kv_bytes_per_position(cpu),
               name + ": fp32 KV bytes per position");

        // Weights replaced after finalize reach the device.
        const auto w2 = random_weights(t, rng());
        for (size_t i = 0; i < t.size(); ++i) {
            LP_OK_OR_DIE(lp_engine_set_weight(f32, t[i].first.c_str(), w2[i].data(), t[i].second.data(),
                                              static_cast<int64_t>(t[i].second.size())));
            LP_OK_OR_DIE(lp_engine_set_weight(cpu, t[i].first.c_str(), w2[i].data(), t[i].second.data(),
                                              static_cast<int64_t>(t[i].second.size())));
        }
        LP_OK_OR_DIE(lp_engine_finalize(f32));
        LP_OK_OR_DIE(lp_engine_finalize(cpu));
        const double e_upd = rel_err(logits(f32, tokens, m.V), logits(cpu, tokens, m.V));
        std::printf("  after a weight update: fp32 rel. error %.3g\n", e_upd);
        expect(e_upd < 1e-4, name + ": fp32 logits after a weight update");

        for (lp_engine *e : {cpu, f32, own, bf16}) lp_engine_destroy(e);
    }

    // A budget of exactly one 20-position trajectory on bf16: it fits; a second does not.
    {
        const Model &m = models[0];
        const Tensors t = layout(m);
        const auto w = random_weights(t, 7);
        lp_engine *probe = make_engine(m, t, w, LP_ENGINE_DEVICE_CUDA | LP_ENGINE_CUDA_BF16, 1LL << 30);
        const int64_t per = lp_engine_kv_bytes_per_position(probe);
        lp_engine_destroy(probe);
        lp_engine *e = make_engine(m, t, w, LP_ENGINE_DEVICE_CUDA | LP_ENGINE_CUDA_BF16, 20 * per);
        std::vector<int64_t> traj(20, 5);
        int64_t len = 20, id = 0, id2 = 0;
        expect(lp_engine_prefill(e, traj.data(), &len, 1, 0, &id, nullptr, nullptr, nullptr) == LP_OK, "budget: one fits");
        const int rc = lp_engine_prefill(e, traj.data(), &len, 1, 0, &id2, nullptr, nullptr, nullptr);
        expect(rc == LP_ERR_OUT_OF_MEMORY && std::strncmp(lp_last_error(), "KV budget", 9) == 0,
               std::string("budget: a second is refused, got ") + lp_last_error());
        lp_engine_destroy(e);
    }

    if (g_failures > 0) {
        std::printf("%d failure(s)\n", g_failures);
        return 1;
    }
    std::printf("OK\n");
    return 0;
}
