/*
 * The rollout engine on the GPU for mask mining's branch workload, through the public C ABI only
 * (lp_engine_* with LP_ENGINE_DEVICE_CUDA; plain C++, the CUDA library is dlopen'ed), with
 * transformers' generate as its peer (bench/gpu/peers/engine_generate_peer.py) on the very same
 * weights and prompts: this benchmark writes each model as a Hugging Face checkpoint (config.json +
 * model.safetensors) next to the prompts and its outputs, and the peer reads them.
 *
 * Workload per shape: a random T-token trajectory, prefilled once with its top-3 next tokens per
 * position; a branch at every position 1..T to each of the 2 alternatives (k = 2), greedy, MAX_NEW
 * tokens each, no EOS (every branch generates exactly MAX_NEW tokens). Shapes:
 *   small       Llama, 4 layers, d=256, GQA 8/2, vocab 4096 (the CPU benchmarks' shape): T=256, 32 tokens
 *   qwen3-0.6b  Qwen3-0.6B's config (28 layers, d=1024, GQA 16/8, head_dim 128, vocab 151936, tied):
 *               T=256, 32 tokens (skipped with LP_BENCH_QUICK=1 or when --shapes excludes it)
 * Engines: CUDA fp32, CUDA bf16, and (small only) the CPU engine, whose greedy outputs fp32 CUDA must
 * equal. Weights: uniform, std 0.02 (transformers' init scale), norms 1; fixed seed.
 *
 * Output: one JSON line per (shape, engine) on stdout ("bench":"engine_branches"); files under
 * $LP_BENCH_WORK (default .)/engine-branches/<shape>/: config.json, model.safetensors, traj.txt,
 * branches.txt ("point forced" per line), outputs-<impl>.txt (tokens per branch). Exit 77 without
 * a usable CUDA backend.
 *   bench_engine_branches [--shapes small,qwen3-0.6b] [--max-batch N] [--cpu-only 1]
 * --cpu-only 1 runs the CPU engine alone and needs no GPU (to check the files and the peer on a
 * machine without one).
 */
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "bench_support.h"
#include "linchpin.h"

namespace {

struct Shape {
    const char *name;
    int family;   // LP_FAMILY_*
    int64_t V, D, F, L, H, Hkv, d;
    double eps, theta;
    bool tied;
    int64_t T, max_new, max_batch;
};

using Tensors = std::vector<std::pair<std::string, std::vector<int64_t>>>;

Tensors layout(const Shape &m) {
    Tensors t;
    const int64_t q = m.H * m.d, kv = m.Hkv * m.d;
    t.push_back({"model.embed_tokens.weight", {m.V, m.D}});
    for (int64_t l = 0; l < m.L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t.push_back({p + "input_layernorm.weight", {m.D}});
        t.push_back({p + "self_attn.q_proj.weight", {q, m.D}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, m.D}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, m.D}});
        t.push_back({p + "self_attn.o_proj.weight", {m.D, q}});
        if (m.family == LP_FAMILY_QWEN3) {
            t.push_back({p + "self_attn.q_norm.weight", {m.d}});
            t.push_back({p + "self_attn.k_norm.weight", {m.d}});
        }
        t.push_back({p + "mlp.gate_proj.weight", {m.F, m.D}});
        t.push_back({p + "mlp.up_proj.weight", {m.F, m.D}});
        t.push_back({p + "mlp.down_proj.weight", {m.D, m.F}});
        t.push_back({p + "post_attention_layernorm.weight", {m.D}});
    }
    t.push_back({"model.norm.weight", {m.D}});
    if (!m.tied) t.push_back({"lm_head.weight", {m.V, m.D}});
    return t;
}

uint64_t mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Norms 1, matrices uniform with std 0.02 (half-width 0.02·√3).
std::vector<float> weights_of(const std::string &name, int64_t n, uint64_t seed) {
    std::vector<float> w(static_cast<size_t>(n));
    if (name.find("norm.weight") != std::string::npos) {
        std::fill(w.begin(), w.end(), 1.0f);
        return w;
    }
    const float a = 0.02f * std::sqrt(3.0f);
    uint64_t s = mix(seed);
    for (int64_t i = 0; i < n; ++i) {
        s += 0x9E3779B97F4A7C15ull;
        const uint64_t z = mix(s);
        w[i] = a * (static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f);
    }
    return w;
}

std::string config_json(const Shape &m) {
    char buf[1024];
    const bool qwen = m.family == LP_FAMILY_QWEN3;
    std::snprintf(buf, sizeof buf,
                  "{\"architectures\": [\"%s\"], \"model_type\": \"%s\", \"vocab_size\": %" PRId64
                  ", \"hidden_size\": %" PRId64 ", \"intermediate_size\": %" PRId64 ", \"num_hidden_layers\": %" PRId64
                  ", \"num_attention_heads\": %" PRId64 ", \"num_key_value_heads\": %" PRId64 ", \"head_dim\": %" PRId64
                  ", \"rms_norm_eps\": %g, \"rope_theta\": %g, \"rope_parameters\": {\"rope_theta\": %g, \"rope_type\": "
                  "\"default\"}, \"max_position_embeddings\": 4096, \"tie_word_embeddings\": %s, \"hidden_act\": "
                  "\"silu\", \"attention_bias\": false, \"mlp_bias\": false, \"torch_dtype\": \"float32\", "
                  "\"bos_token_id\": null, \"eos_token_id\": null, \"pad_token_id\": null}\n",
                  qwen ? "Qwen3ForCausalLM" : "LlamaForCausalLM", qwen ? "qwen3" : "llama", m.V, m.D, m.F, m.L, m.H,
                  m.Hkv, m.d, m.eps, m.theta, m.theta, m.tied ? "true" : "false");
    return buf;
}

bool write_file(const std::string &path, const std::string &text) {
    FILE *f = std::fopen(path.c_str(), "w");
    if (!f) return false;
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    return std::fclose(f) == 0 && ok;
}

struct Run {
    std::string error;
    double seconds = 0;
    int64_t tokens = 0;
    std::vector<std::vector<int64_t>> outputs;
    std::string describe;
    std::vector<int64_t> points, forced;
};

#define TRY(expr)                                                                                   \
    do {                                                                                            \
        if (int rc_ = (expr); rc_ != LP_OK) {                                                       \
            r.error = std::string(#expr) + ": " + lp_last_error();                                  \
            if (e) lp_engine_destroy(e);                                                            \
            return r;                                                                               \
        }                                                                                           \
    } while (0)

// Builds an engine on `flags`, loads the weights, runs the workload; the outputs of every branch.
Run run_engine(const Shape &m, const Tensors &t, uint64_t seed, int flags, const std::vector<int64_t> &traj,
               std::FILE *safetensors_out) {
    Run r;
    lp_engine *e = nullptr;
    std::vector<float> inv(static_cast<size_t>(m.d / 2));
    for (int64_t i = 0; i < m.d / 2; ++i)
        inv[i] = static_cast<float>(1.0 / std::pow(m.theta, static_cast<double>(2 * i) / static_cast<double>(m.d)));
    TRY(lp_engine_create(m.family, m.V, m.D, m.F, m.L, m.H, m.Hkv, m.d, m.eps,
                         (m.tied ? LP_ENGINE_TIED_EMBEDDINGS : 0) | flags, inv.data(), 16LL << 30, 0, &e));
    // safetensors: the header first (offsets known from the shapes), then each tensor as it is made.
    if (safetensors_out) {
        std::string header = "{";
        int64_t at = 0;
        for (size_t i = 0; i < t.size(); ++i) {
            int64_t n = 1;
            for (int64_t s : t[i].second) n *= s;
            header += (i ? "," : "") + std::string("\"") + t[i].first + "\":{\"dtype\":\"F32\",\"shape\":[";
            for (size_t j = 0; j < t[i].second.size(); ++j) header += (j ? "," : "") + std::to_string(t[i].second[j]);
            header += "],\"data_offsets\":[" + std::to_string(at) + "," + std::to_string(at + 4 * n) + "]}";
            at += 4 * n;
        }
        header += "}";
        while (header.size() % 8) header += ' ';
        const uint64_t len = header.size();
        std::fwrite(&len, 8, 1, safetensors_out);
        std::fwrite(header.data(), 1, header.size(), safetensors_out);
    }
    for (size_t i = 0; i < t.size(); ++i) {
        int64_t n = 1;
        for (int64_t s : t[i].second) n *= s;
        const std::vector<float> w = weights_of(t[i].first, n, seed + i);
        TRY(lp_engine_set_weight(e, t[i].first.c_str(), w.data(), t[i].second.data(), int64_t(t[i].second.size())));
        if (safetensors_out && std::fwrite(w.data(), 4, size_t(n), safetensors_out) != size_t(n)) {
            r.error = "cannot write model.safetensors";
            lp_engine_destroy(e);
            return r;
        }
    }
    TRY(lp_engine_finalize(e));
    char buf[512];
    TRY(lp_engine_describe(e, buf, sizeof buf));
    r.describe = buf;

    const auto t0 = std::chrono::steady_clock::now();
    int64_t len = int64_t(traj.size()), id = 0;
    std::vector<int64_t> top_ids(traj.size() * 3);
    std::vector<float> top_p(traj.size() * 3);
    TRY(lp_engine_prefill(e, traj.data(), &len, 1, 3, &id, top_ids.data(), top_p.data(), nullptr));
    std::vector<int64_t> ids, requests;
    for (int64_t p = 1; p <= len; ++p) {
        for (int64_t a = 1; a <= 2; ++a) {
            r.points.push_back(p);
            r.forced.push_back(top_ids[(p - 1) * 3 + a]);
            ids.push_back(id);
            requests.push_back(int64_t(requests.size()));
        }
    }
    const int64_t n = int64_t(ids.size()), no_stop = 0;
    TRY(lp_engine_rollout_begin(e, ids.data(), r.points.data(), r.forced.data(), requests.data(), n, m.max_new, nullptr,
                                0, nullptr, &no_stop, 0, 0.0, 1.0, 0, m.max_batch));
    std::vector<int64_t> finished(static_cast<size_t>(n));
    int64_t n_finished = 0;
    int done = 0;
    while (!done) TRY(lp_engine_rollout_step(e, finished.data(), &n_finished, &done));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int64_t i = 0; i < n; ++i) {
        std::vector<int64_t> tokens(static_cast<size_t>(m.max_new));
        int64_t length = 0;
        double lp = 0, ent = 0;
        TRY(lp_engine_rollout_result(e, i, tokens.data(), m.max_new, &length, &lp, &ent));
        tokens.resize(static_cast<size_t>(length));
        r.tokens += length;
        r.outputs.push_back(tokens);
    }
    TRY(lp_engine_rollout_end(e));
    lp_engine_destroy(e);
    return r;
}

std::string join(const std::vector<int64_t> &v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + std::to_string(v[i]);
    return s;
}

}  // namespace

int main(int argc, char **argv) {
    std::string shapes = "small,qwen3-0.6b";
    int64_t max_batch_override = 0;
    bool cpu_only = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--shapes")) shapes = argv[i + 1];
        else if (!std::strcmp(argv[i], "--max-batch")) max_batch_override = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--cpu-only")) cpu_only = std::atoi(argv[i + 1]) != 0;
        else {
            std::fprintf(stderr, "usage: bench_engine_branches [--shapes small,qwen3-0.6b] [--max-batch N] [--cpu-only 1]\n");
            return 2;
        }
    }
    const char *quick = std::getenv("LP_BENCH_QUICK");
    if (quick && quick[0] == '1') shapes = "small";
    char device[256] = "CPU";
    if (!cpu_only)
        if (const int skip = lp_bench_load_cuda(device, sizeof device); skip >= 0) return skip;
    const char *work_env = std::getenv("LP_BENCH_WORK");
    const std::string work = std::string(work_env && work_env[0] ? work_env : ".") + "/engine-branches";
    mkdir(work.c_str(), 0755);

    const Shape all[] = {
        {"small", LP_FAMILY_LLAMA, 4096, 256, 704, 4, 8, 2, 32, 1e-6, 10000.0, false, 256, 32, 64},
        {"qwen3-0.6b", LP_FAMILY_QWEN3, 151936, 1024, 3072, 28, 16, 8, 128, 1e-6, 1000000.0, true, 256, 32, 256},
    };
    int failures = 0;
    for (const Shape &base : all) {
        if ((',' + shapes + ',').find(',' + std::string(base.name) + ',') == std::string::npos) continue;
        Shape m = base;
        if (max_batch_override > 0) m.max_batch = max_batch_override;
        const std::string dir = work + "/" + m.name;
        mkdir(dir.c_str(), 0755);
        const Tensors t = layout(m);
        std::vector<int64_t> traj(static_cast<size_t>(m.T));
        uint64_t s = 42;
        for (auto &x : traj) x = int64_t(mix(s++) % uint64_t(m.V));
        write_file(dir + "/config.json", config_json(m));
        write_file(dir + "/traj.txt", join(traj) + "\n");

        struct Impl {
            const char *name;
            int flags;
            bool reference;
        };
        std::vector<Impl> impls = {{"linchpin_cuda_fp32", LP_ENGINE_DEVICE_CUDA, false},
                                   {"linchpin_cuda_bf16", LP_ENGINE_DEVICE_CUDA | LP_ENGINE_CUDA_BF16, false}};
        if (std::string(m.name) == "small") impls.push_back({"linchpin_cpu", 0, true});
        if (cpu_only) impls = {{"linchpin_cpu", 0, false}};
        std::vector<std::vector<int64_t>> fp32_out;
        for (size_t k = 0; k < impls.size(); ++k) {
            std::fprintf(stderr, "bench_engine_branches: %s %s\n", m.name, impls[k].name);
            std::FILE *st = k == 0 ? std::fopen((dir + "/model.safetensors").c_str(), "wb") : nullptr;
            Run r = run_engine(m, t, 20261124, impls[k].flags, traj, st);
            if (st) std::fclose(st);
            std::printf("{\"bench\":\"engine_branches\",\"impl\":\"%s\",\"shape\":\"%s\",\"device\":\"%s\",\"T\":%" PRId64
                        ",\"k\":2,\"max_new\":%" PRId64 ",\"max_batch\":%" PRId64,
                        impls[k].name, m.name, json_escape(device).c_str(), m.T, m.max_new, m.max_batch);
            if (!r.error.empty()) {
                std::printf(",\"status\":\"error\",\"error\":\"%s\"}\n", json_escape(r.error).c_str());
                ++failures;
                continue;
            }
            std::string agree;
            if (k == 0) {
                fp32_out = r.outputs;
                std::string lines;
                for (size_t i = 0; i < r.points.size(); ++i)
                    lines += std::to_string(r.points[i]) + " " + std::to_string(r.forced[i]) + "\n";
                write_file(dir + "/branches.txt", lines);
            } else if (!fp32_out.empty()) {
                int64_t same = 0;
                for (size_t i = 0; i < r.outputs.size() && i < fp32_out.size(); ++i) same += r.outputs[i] == fp32_out[i];
                agree = ",\"identical_to_cuda_fp32\":" + std::to_string(same);
                if (impls[k].reference && same != int64_t(fp32_out.size())) {
                    std::fprintf(stderr, "bench_engine_branches: fp32 CUDA greedy outputs differ from the CPU engine's "
                                         "on %" PRId64 " of %zu branches\n", int64_t(fp32_out.size()) - same, fp32_out.size());
                }
            }
            std::string lines;
            for (const auto &o : r.outputs) lines += join(o) + "\n";
            write_file(dir + "/outputs-" + impls[k].name + ".txt", lines);
            std::printf(",\"status\":\"ok\",\"branches\":%zu,\"tokens\":%" PRId64 ",\"seconds\":%.3f,\"tok_s\":%.1f%s,"
                        "\"engine\":\"%s\"}\n",
                        r.outputs.size(), r.tokens, r.seconds, double(r.tokens) / r.seconds, agree.c_str(),
                        json_escape(r.describe).c_str());
            std::fflush(stdout);
        }
    }
    return failures == 0 ? 0 : 1;
}
