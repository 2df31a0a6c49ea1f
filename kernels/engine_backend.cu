/*
 * The rollout engine's CUDA backend (lpcuda_engine_*, contract in cpp/include/linchpin_cuda_backend.h),
 * reached from liblinchpin.so through the dispatcher (cpp/src/engine/cuda_backend_proxy.cpp).
 *
 * The same decoder as cpp/src/engine/cpu_backend.cpp (dev.linchpin.model.CausalLM's numerics), on the
 * device: weights uploaded from the host engine's fp32 copies (matrices in fp32 or bf16, norms and
 * biases in fp32), activations and accumulation in fp32, GEMMs through cuBLAS or the own tiled kernel
 * (engine_gemm.cu), attention through the staircase kernel (staircase_attention.cu), KV stores in
 * device memory ([layers][k|v][capacity][kv_heads·head_dim] in the weight dtype). A forward pass ends
 * with the logits copied to the host, where the engine chooses tokens.
 *
 * Attention goes through the staircase kernel, one call per group of rows reading the same shared
 * store, on suffix KV rows gathered per layer into contiguous arrays, with one query row per engine
 * row (the mapping: engine_plan.h). A decode step reads each branch's suffix KV (n_suffix rows) once
 * per layer and computes one query row per branch: its cost grows linearly with the generated length.
 *
 * Not done here (reported): CUDA graphs for the decode step; token choice on the device.
 */
#include "common.cuh"
#include "engine_gemm.cuh"
#include "engine_ops.cuh"
#include "engine_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <vector>

struct lpcuda_kv {
    void *data;
    int64_t capacity;
};

namespace lpcuda {
namespace {

using namespace engine_ops;

/* A device buffer that only grows. */
struct DevBuf {
    void *p = nullptr;
    size_t bytes = 0;
    int ensure(size_t need, const char *what) {
        if (need <= bytes) return LP_OK;
        if (p != nullptr) {
            LPCUDA_CHECK(cudaFree(p), "cudaFree (engine scratch)");
            p = nullptr;
            bytes = 0;
        }
        cudaError_t err = cudaMalloc(&p, need);
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            p = nullptr;
            return fail(LP_ERR_OUT_OF_MEMORY, "engine scratch %s: cudaMalloc of %zu bytes: out of device memory", what,
                        need);
        }
        LPCUDA_CHECK(err, "cudaMalloc (engine scratch)");
        bytes = need;
        return LP_OK;
    }
    template <typename T>
    T *as() const { return static_cast<T *>(p); }
    ~DevBuf() {
        if (p != nullptr) (void)cudaFree(p);
    }
};

/* Device copies of one layer's weights; matrices in the engine dtype, vectors in fp32. */
struct DevLayer {
    float *input_norm = nullptr, *post_attn_norm = nullptr, *post_ff_norm = nullptr;
    void *wq = nullptr, *wk = nullptr, *wv = nullptr, *wo = nullptr;
    float *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr, *q_norm = nullptr, *k_norm = nullptr;
    void *gate = nullptr, *up = nullptr, *down = nullptr;
    float *b_gate = nullptr, *b_up = nullptr, *b_down = nullptr;
};

/* fp32 -> bf16 bits, round to nearest even (inputs are finite: the host engine checked). */
uint16_t bf16_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

/* One upload: a host fp32 tensor into a device slot (allocated on first use). */
struct Upload {
    void **slot;
    const float *host;
    int64_t count;
    bool matrix;   /* in the engine dtype; else fp32 */
    const char *what;
    bool required;
};

enum Family { kLlama = 0, kQwen2 = 1, kQwen3 = 2, kOlmo2 = 3 };

}  // namespace
}  // namespace lpcuda

struct lpcuda_engine {
    lpcuda_engine_spec spec{};
    int64_t D = 0, F = 0, V = 0, L = 0, H = 0, Hkv = 0, d = 0, hd = 0, kvd = 0;
    size_t esz = 4;
    float eps = 0;
    cudaStream_t stream = nullptr;
    lpcuda::Gemm gemm;
    float *inv_freq = nullptr;
    void *embed = nullptr, *lm_head = nullptr;
    float *final_norm = nullptr;
    std::vector<lpcuda::DevLayer> layers;
    std::vector<void *> owned;   /* every weight allocation */
    lpcuda::DevBuf x, xn, q, k, v, att, o, gate, up, logits, in16, qg, kg, vg, outg, plan, ws;
    lpcuda::engine_plan::Plan plan_host;

    ~lpcuda_engine() {
        if (stream != nullptr) (void)cudaStreamSynchronize(stream);
        gemm.release();   /* the cuBLAS handle is bound to the stream: destroy it while the stream exists */
        for (void *p : owned) (void)cudaFree(p);
        if (inv_freq != nullptr) (void)cudaFree(inv_freq);
        if (stream != nullptr) (void)cudaStreamDestroy(stream);
    }
};

namespace lpcuda {
namespace {

std::vector<Upload> uploads(lpcuda_engine *e, const lpcuda_model_weights *w) {
    std::vector<Upload> out;
    const int64_t D = e->D, F = e->F, hd = e->hd, kvd = e->kvd, fam = e->spec.family;
    const bool qkv_bias = e->spec.flags & LP_ENGINE_QKV_BIAS, o_bias = e->spec.flags & LP_ENGINE_O_BIAS;
    const bool mlp_bias = e->spec.flags & LP_ENGINE_MLP_BIAS, tied = e->spec.flags & LP_ENGINE_TIED_EMBEDDINGS;
    out.push_back({&e->embed, w->embed, e->V * D, true, "model.embed_tokens.weight", true});
    out.push_back({reinterpret_cast<void **>(&e->final_norm), w->final_norm, D, false, "model.norm.weight", true});
    if (!tied) out.push_back({&e->lm_head, w->lm_head, e->V * D, true, "lm_head.weight", true});
    for (int64_t l = 0; l < e->L; ++l) {
        const lpcuda_layer_weights &h = w->layers[l];
        DevLayer &g = e->layers[l];
        auto vec = [](float **p) { return reinterpret_cast<void **>(p); };
        out.push_back({vec(&g.input_norm), h.input_norm, D, false, "input_layernorm", fam != kOlmo2});
        out.push_back({vec(&g.post_attn_norm), h.post_attn_norm, D, false, "post_attention_layernorm", true});
        out.push_back({vec(&g.post_ff_norm), h.post_ff_norm, D, false, "post_feedforward_layernorm", fam == kOlmo2});
        out.push_back({&g.wq, h.wq, hd * D, true, "q_proj", true});
        out.push_back({&g.wk, h.wk, kvd * D, true, "k_proj", true});
        out.push_back({&g.wv, h.wv, kvd * D, true, "v_proj", true});
        out.push_back({&g.wo, h.wo, D * hd, true, "o_proj", true});
        if (qkv_bias) {
            out.push_back({vec(&g.bq), h.bq, hd, false, "q_proj.bias", true});
            out.push_back({vec(&g.bk), h.bk, kvd, false, "k_proj.bias", true});
            out.push_back({vec(&g.bv), h.bv, kvd, false, "v_proj.bias", true});
        }
        if (o_bias) out.push_back({vec(&g.bo), h.bo, D, false, "o_proj.bias", true});
        if (fam == kQwen3) {
            out.push_back({vec(&g.q_norm), h.q_norm, e->d, false, "q_norm", true});
            out.push_back({vec(&g.k_norm), h.k_norm, e->d, false, "k_norm", true});
        } else if (fam == kOlmo2) {
            out.push_back({vec(&g.q_norm), h.q_norm, hd, false, "q_norm", true});
            out.push_back({vec(&g.k_norm), h.k_norm, kvd, false, "k_norm", true});
        }
        out.push_back({&g.gate, h.gate, F * D, true, "gate_proj", true});
        out.push_back({&g.up, h.up, F * D, true, "up_proj", true});
        out.push_back({&g.down, h.down, D * F, true, "down_proj", true});
        if (mlp_bias) {
            out.push_back({vec(&g.b_gate), h.b_gate, F, false, "gate_proj.bias", true});
            out.push_back({vec(&g.b_up), h.b_up, F, false, "up_proj.bias", true});
            out.push_back({vec(&g.b_down), h.b_down, D, false, "down_proj.bias", true});
        }
    }
    return out;
}

/* Uploads every weight (allocating slots on the first call) on the engine's stream. Returns when the
 * copies are done. */
int upload_weights(lpcuda_engine *e, const lpcuda_model_weights *w) {
    if (w == nullptr || w->embed == nullptr || w->final_norm == nullptr || w->layers == nullptr)
        return fail(LP_ERR_INVALID_ARGUMENT, "engine weights: null embed, final norm or layer table");
    std::vector<uint16_t> staging;
    for (const Upload &u : uploads(e, w)) {
        if (u.host == nullptr) {
            if (u.required) return fail(LP_ERR_INVALID_ARGUMENT, "engine weights: %s is missing", u.what);
            continue;
        }
        const bool bf16 = u.matrix && e->spec.dtype == LP_BF16;
        const size_t bytes = static_cast<size_t>(u.count) * (bf16 ? 2 : 4);
        if (*u.slot == nullptr) {
            cudaError_t err = cudaMalloc(u.slot, bytes);
            if (err == cudaErrorMemoryAllocation) {
                (void)cudaGetLastError();
                *u.slot = nullptr;
                return fail(LP_ERR_OUT_OF_MEMORY, "engine weights: cudaMalloc of %zu bytes for %s: out of device memory",
                            bytes, u.what);
            }
            LPCUDA_CHECK(err, "cudaMalloc (engine weights)");
            e->owned.push_back(*u.slot);
        }
        /* On the engine's own stream, then waited for: a plain cudaMemcpy goes to the legacy stream,
         * which the engine's non-blocking stream does not wait for, so a forward right after an update
         * could read the old weights (and a pageable copy may still be in flight when it returns).
         * Waiting per tensor also lets the bf16 staging buffer be reused. */
        const void *src = u.host;
        if (bf16) {
            staging.resize(static_cast<size_t>(u.count));
            for (int64_t i = 0; i < u.count; ++i) staging[i] = bf16_bits(u.host[i]);
            src = staging.data();
        }
        LPCUDA_CHECK(cudaMemcpyAsync(*u.slot, src, bytes, cudaMemcpyHostToDevice, e->stream),
                     "cudaMemcpyAsync (engine weights)");
        LPCUDA_CHECK(cudaStreamSynchronize(e->stream), "cudaStreamSynchronize (engine weights)");
    }
    if (e->spec.flags & LP_ENGINE_TIED_EMBEDDINGS) e->lm_head = e->embed;
    return LP_OK;
}

/* y[R, N] = in[R, K] · W[N, K]ᵀ (+ bias): activations go to bf16 first when the weights are bf16. */
int linear(lpcuda_engine *e, const float *in, int64_t R, int64_t K, const void *W, const float *bias, int64_t N,
           float *y) {
    const void *x = in;
    if (e->spec.dtype == LP_BF16) {   /* in16 holds R · max(D, hd, F) (forward_typed) */
        convert_kernel<__nv_bfloat16><<<blocks_for(R * K), kThreads, 0, e->stream>>>(in, e->in16.as<__nv_bfloat16>(),
                                                                                     R * K);
        LPCUDA_CHECK_LAUNCH("convert_kernel");
        x = e->in16.p;
    }
    int st = e->gemm.run(x, W, e->spec.dtype, y, R, N, K);
    if (st != LP_OK) return st;
    if (bias != nullptr) {
        add_bias_kernel<<<blocks_for(R * N), kThreads, 0, e->stream>>>(y, bias, R, N);
        LPCUDA_CHECK_LAUNCH("add_bias_kernel");
    }
    return LP_OK;
}

int rms_norm(lpcuda_engine *e, const float *x, int64_t R, int64_t width, int64_t n, const float *weight, float *y) {
    const int64_t groups = R * width / n;
    if (groups == 0) return LP_OK;
    if (groups > INT32_MAX) return fail(LP_ERR_INVALID_ARGUMENT, "rms_norm: too many groups");
    rms_norm_kernel<<<static_cast<unsigned>(groups), kThreads, 0, e->stream>>>(x, n, weight, e->eps, y);
    LPCUDA_CHECK_LAUNCH("rms_norm_kernel");
    return LP_OK;
}

#define LPCUDA_TRY(expr)                \
    do {                                \
        int lpcuda_st_ = (expr);        \
        if (lpcuda_st_ != LP_OK) return lpcuda_st_; \
    } while (0)

template <typename T>
int forward_typed(lpcuda_engine *e, const lpcuda_row *rows, int64_t R, float *host_logits) {
    const int64_t D = e->D, F = e->F, V = e->V, H = e->H, Hkv = e->Hkv, d = e->d, hd = e->hd, kvd = e->kvd;
    const int fam = e->spec.family;
    const bool post_norm = fam == kOlmo2;

    engine_plan::Plan &P = e->plan_host;
    const std::string bad = engine_plan::build(rows, R, V, &P);
    if (!bad.empty()) return fail(LP_ERR_INVALID_ARGUMENT, "CUDA engine forward: %s", bad.c_str());
    const std::vector<int64_t> &plan = P.data;
    const int64_t G = P.G, Q = P.Q, at_tok = P.at_tok, at_pos = P.at_pos, at_dest = P.at_dest, at_src = P.at_src;
    const int64_t at_gather = P.at_gather, at_qgather = P.at_qgather, at_bp = P.at_bp, at_off = P.at_off;
    const int64_t at_qrows = P.at_qrows;
    const std::vector<engine_plan::Group> &groups = P.groups;

    /* Scratch. */
    const size_t f4 = sizeof(float);
    LPCUDA_TRY(e->x.ensure(R * D * f4, "x"));
    LPCUDA_TRY(e->xn.ensure(R * D * f4, "xn"));
    LPCUDA_TRY(e->q.ensure(R * hd * f4, "q"));
    LPCUDA_TRY(e->k.ensure(R * kvd * f4, "k"));
    LPCUDA_TRY(e->v.ensure(R * kvd * f4, "v"));
    LPCUDA_TRY(e->att.ensure(R * hd * f4, "att"));
    LPCUDA_TRY(e->o.ensure(R * D * f4, "o"));
    LPCUDA_TRY(e->gate.ensure(R * F * f4, "gate"));
    LPCUDA_TRY(e->up.ensure(R * F * f4, "up"));
    if (host_logits != nullptr) LPCUDA_TRY(e->logits.ensure(R * V * f4, "logits"));
    LPCUDA_TRY(e->qg.ensure(Q * hd * sizeof(T), "gathered q"));
    LPCUDA_TRY(e->kg.ensure(G * kvd * sizeof(T), "gathered k"));
    LPCUDA_TRY(e->vg.ensure(G * kvd * sizeof(T), "gathered v"));
    LPCUDA_TRY(e->outg.ensure(Q * hd * f4, "attention out"));
    LPCUDA_TRY(e->plan.ensure(plan.size() * sizeof(int64_t), "plan"));
    if (e->spec.dtype == LP_BF16)   /* sized here, not mid-pass: growing frees a buffer queued work may read */
        LPCUDA_TRY(e->in16.ensure(static_cast<size_t>(R * std::max({D, hd, F})) * 2, "bf16 activations"));
    int64_t ws_bytes = 0;
    for (const engine_plan::Group &g : groups) {
        const int64_t need = lpcuda_staircase_attention_workspace_size(g.T, g.n, H, Hkv, d, e->spec.dtype);
        if (need < 0) return LP_ERR_INVALID_ARGUMENT;   /* message set by the workspace function */
        ws_bytes = std::max(ws_bytes, need);
    }
    LPCUDA_TRY(e->ws.ensure(static_cast<size_t>(std::max<int64_t>(ws_bytes, 16)), "attention workspace"));
    LPCUDA_CHECK(cudaMemcpyAsync(e->plan.p, plan.data(), plan.size() * sizeof(int64_t), cudaMemcpyHostToDevice,
                                 e->stream),
                 "cudaMemcpyAsync (engine plan)");
    const int64_t *dplan = e->plan.as<int64_t>();
    float *x = e->x.as<float>(), *xn = e->xn.as<float>(), *q = e->q.as<float>(), *k = e->k.as<float>();
    float *v = e->v.as<float>(), *att = e->att.as<float>(), *o = e->o.as<float>(), *gate = e->gate.as<float>();
    float *up = e->up.as<float>();
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));

    embed_kernel<T><<<blocks_for(R * D), kThreads, 0, e->stream>>>(dplan + at_tok, static_cast<const T *>(e->embed), D,
                                                                    R, x);
    LPCUDA_CHECK_LAUNCH("embed_kernel");
    for (int64_t l = 0; l < e->L; ++l) {
        const DevLayer &W = e->layers[l];
        /* Attention block: pre-norm input (Llama/Qwen) or the raw residual stream (OLMo-2). */
        const float *in = x;
        if (!post_norm) {
            LPCUDA_TRY(rms_norm(e, x, R, D, D, W.input_norm, xn));
            in = xn;
        }
        LPCUDA_TRY(linear(e, in, R, D, W.wq, W.bq, hd, q));
        LPCUDA_TRY(linear(e, in, R, D, W.wk, W.bk, kvd, k));
        LPCUDA_TRY(linear(e, in, R, D, W.wv, W.bv, kvd, v));
        if (fam == kOlmo2) {   /* over all heads, before the split */
            LPCUDA_TRY(rms_norm(e, q, R, hd, hd, W.q_norm, q));
            LPCUDA_TRY(rms_norm(e, k, R, kvd, kvd, W.k_norm, k));
        } else if (fam == kQwen3) {   /* per head */
            LPCUDA_TRY(rms_norm(e, q, R, hd, d, W.q_norm, q));
            LPCUDA_TRY(rms_norm(e, k, R, kvd, d, W.k_norm, k));
        }
        rope_kernel<<<blocks_for(R * H * (d / 2)), kThreads, 0, e->stream>>>(q, dplan + at_pos, e->inv_freq, R, H, d);
        LPCUDA_CHECK_LAUNCH("rope_kernel");
        rope_kernel<<<blocks_for(R * Hkv * (d / 2)), kThreads, 0, e->stream>>>(k, dplan + at_pos, e->inv_freq, R, Hkv, d);
        LPCUDA_CHECK_LAUNCH("rope_kernel");
        kv_write_kernel<T><<<blocks_for(R * kvd), kThreads, 0, e->stream>>>(k, v, dplan + at_dest, R, kvd, l);
        LPCUDA_CHECK_LAUNCH("kv_write_kernel");
        gather_kernel<T><<<blocks_for(G * kvd + Q * hd), kThreads, 0, e->stream>>>(
            dplan + at_gather, G, kvd, dplan + at_qgather, Q, hd, l, q, e->kg.as<T>(), e->vg.as<T>(), e->qg.as<T>());
        LPCUDA_CHECK_LAUNCH("gather_kernel");
        for (const engine_plan::Group &g : groups) {
            const T *ks = nullptr, *vs = nullptr;
            if (g.shared_data != nullptr && g.T > 0) {
                const T *base = static_cast<const T *>(g.shared_data);
                ks = base + (2 * l) * g.shared_capacity * kvd;
                vs = base + (2 * l + 1) * g.shared_capacity * kvd;
            }
            int st = lpcuda_staircase_attention(e->qg.as<T>() + g.q0 * hd, ks, vs, ks ? g.T : 0,
                                                e->kg.as<T>() + g.g0 * kvd, e->vg.as<T>() + g.g0 * kvd,
                                                dplan + at_bp + g.bp_at, dplan + at_off + g.off_at, g.n, g.S,
                                                dplan + at_qrows + g.q0, g.n, H, Hkv, d, scale, e->spec.dtype,
                                                e->outg.as<float>() + g.q0 * hd, e->ws.p,
                                                static_cast<int64_t>(e->ws.bytes), e->stream);
            if (st != LP_OK) return st;
        }
        scatter_rows_kernel<<<blocks_for(R * hd), kThreads, 0, e->stream>>>(e->outg.as<float>(), dplan + at_src, R, hd,
                                                                           att);
        LPCUDA_CHECK_LAUNCH("scatter_rows_kernel");
        LPCUDA_TRY(linear(e, att, R, hd, W.wo, W.bo, D, o));
        if (post_norm) LPCUDA_TRY(rms_norm(e, o, R, D, D, W.post_attn_norm, o));
        residual_kernel<<<blocks_for(R * D), kThreads, 0, e->stream>>>(x, o, R * D);
        LPCUDA_CHECK_LAUNCH("residual_kernel");

        /* MLP block. */
        in = x;
        if (!post_norm) {
            LPCUDA_TRY(rms_norm(e, x, R, D, D, W.post_attn_norm, xn));
            in = xn;
        }
        LPCUDA_TRY(linear(e, in, R, D, W.gate, W.b_gate, F, gate));
        LPCUDA_TRY(linear(e, in, R, D, W.up, W.b_up, F, up));
        swiglu_kernel<<<blocks_for(R * F), kThreads, 0, e->stream>>>(gate, up, R * F);
        LPCUDA_CHECK_LAUNCH("swiglu_kernel");
        LPCUDA_TRY(linear(e, gate, R, F, W.down, W.b_down, D, o));
        if (post_norm) LPCUDA_TRY(rms_norm(e, o, R, D, D, W.post_ff_norm, o));
        residual_kernel<<<blocks_for(R * D), kThreads, 0, e->stream>>>(x, o, R * D);
        LPCUDA_CHECK_LAUNCH("residual_kernel");
    }
    if (host_logits != nullptr) {   /* else the caller wants only the KV (a prefill for rollouts) */
        LPCUDA_TRY(rms_norm(e, x, R, D, D, e->final_norm, xn));
        LPCUDA_TRY(linear(e, xn, R, D, e->lm_head, nullptr, V, e->logits.as<float>()));
        LPCUDA_CHECK(cudaMemcpyAsync(host_logits, e->logits.p, static_cast<size_t>(R * V) * f4, cudaMemcpyDeviceToHost,
                                     e->stream),
                     "cudaMemcpyAsync (engine logits)");
    }
    LPCUDA_CHECK(cudaStreamSynchronize(e->stream), "cudaStreamSynchronize (engine forward)");
    return LP_OK;
}

template <typename F>
int guarded(F &&f) {
    clear_error();
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return fail(LP_ERR_OUT_OF_MEMORY, "CUDA engine: out of host memory");
    } catch (const std::exception &ex) {
        return fail(LP_ERR_INTERNAL, "CUDA engine: %s", ex.what());
    }
}

}  // namespace
}  // namespace lpcuda

extern "C" {

LPCUDA_EXPORT int lpcuda_engine_create(const lpcuda_engine_spec *spec, const lpcuda_model_weights *weights,
                                       lpcuda_engine **out) {
    using namespace lpcuda;
    return guarded([&] {
        if (spec == nullptr || weights == nullptr || out == nullptr || spec->inv_freq == nullptr)
            return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_engine_create: null argument");
        *out = nullptr;
        if (int st = use_selected_device(); st != LP_OK) return st;
        if (spec->dtype != LP_F32 && spec->dtype != LP_BF16)
            return fail(LP_ERR_INVALID_ARGUMENT, "CUDA engine: dtype must be f32 or bf16, got %d", spec->dtype);
        if (spec->family < kLlama || spec->family > kOlmo2 || spec->vocab < 1 || spec->hidden < 1 ||
            spec->intermediate < 1 || spec->layers < 1 || spec->heads < 1 || spec->kv_heads < 1 ||
            spec->head_dim < 2 || spec->head_dim % 2 != 0 || spec->heads % spec->kv_heads != 0 || !(spec->rms_eps > 0))
            return fail(LP_ERR_INVALID_ARGUMENT, "CUDA engine: bad model spec");
        if (spec->head_dim > 256)
            return fail(LP_ERR_INVALID_ARGUMENT, "CUDA engine: head_dim %lld > 256 (staircase kernel limit)",
                        (long long)spec->head_dim);
        auto e = std::make_unique<lpcuda_engine>();
        e->spec = *spec;
        e->spec.inv_freq = nullptr;   /* the caller's table is copied to the device below */
        e->D = spec->hidden, e->F = spec->intermediate, e->V = spec->vocab, e->L = spec->layers;
        e->H = spec->heads, e->Hkv = spec->kv_heads, e->d = spec->head_dim;
        e->hd = e->H * e->d, e->kvd = e->Hkv * e->d;
        e->esz = spec->dtype == LP_BF16 ? 2 : 4;
        e->eps = static_cast<float>(spec->rms_eps);
        e->layers.resize(static_cast<size_t>(e->L));
        LPCUDA_CHECK(cudaStreamCreateWithFlags(&e->stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        int st = e->gemm.init(e->stream);
        if (st != LP_OK) return st;
        const size_t fbytes = static_cast<size_t>(e->d / 2) * sizeof(float);
        LPCUDA_CHECK(cudaMalloc(reinterpret_cast<void **>(&e->inv_freq), fbytes), "cudaMalloc (inv_freq)");
        LPCUDA_CHECK(cudaMemcpyAsync(e->inv_freq, spec->inv_freq, fbytes, cudaMemcpyHostToDevice, e->stream),
                     "cudaMemcpyAsync (inv_freq)");
        LPCUDA_CHECK(cudaStreamSynchronize(e->stream), "cudaStreamSynchronize (inv_freq)");
        st = upload_weights(e.get(), weights);
        if (st != LP_OK) return st;
        *out = e.release();
        return (int)LP_OK;
    });
}

LPCUDA_EXPORT int lpcuda_engine_update_weights(lpcuda_engine *e, const lpcuda_model_weights *weights) {
    using namespace lpcuda;
    return guarded([&] {
        if (e == nullptr) return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_engine_update_weights: null engine");
        if (int st = use_selected_device(); st != LP_OK) return st;
        LPCUDA_CHECK(cudaStreamSynchronize(e->stream), "cudaStreamSynchronize (before weight update)");
        return upload_weights(e, weights);
    });
}

LPCUDA_EXPORT void lpcuda_engine_destroy(lpcuda_engine *e) {
    if (e != nullptr) (void)lpcuda::use_selected_device();
    delete e;
}

LPCUDA_EXPORT int64_t lpcuda_engine_kv_bytes(const lpcuda_engine *e, int64_t capacity) {
    return e == nullptr || capacity < 0 ? -1 : e->L * 2 * capacity * e->kvd * static_cast<int64_t>(e->esz);
}

LPCUDA_EXPORT int lpcuda_engine_kv_alloc(lpcuda_engine *e, int64_t capacity, lpcuda_kv **out) {
    using namespace lpcuda;
    return guarded([&] {
        if (e == nullptr || out == nullptr || capacity < 1)
            return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_engine_kv_alloc: null argument or capacity < 1");
        *out = nullptr;
        if (int st = use_selected_device(); st != LP_OK) return st;
        const size_t bytes = static_cast<size_t>(lpcuda_engine_kv_bytes(e, capacity));
        void *p = nullptr;
        cudaError_t err = cudaMalloc(&p, bytes);
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            size_t free_b = 0, total_b = 0;
            if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) (void)cudaGetLastError();
            return fail(LP_ERR_OUT_OF_MEMORY, "KV store of %lld positions: cudaMalloc of %zu bytes failed (%zu of %zu free)",
                        (long long)capacity, bytes, free_b, total_b);
        }
        LPCUDA_CHECK(err, "cudaMalloc (KV store)");
        *out = new lpcuda_kv{p, capacity};
        return (int)LP_OK;
    });
}

LPCUDA_EXPORT void lpcuda_engine_kv_free(lpcuda_engine *e, lpcuda_kv *kv) {
    if (kv == nullptr) return;
    (void)lpcuda::use_selected_device();
    /* Work on the engine's stream may still read the store. */
    if (e != nullptr) (void)cudaStreamSynchronize(e->stream);
    (void)cudaFree(kv->data);
    delete kv;
}

LPCUDA_EXPORT int lpcuda_engine_forward(lpcuda_engine *e, const lpcuda_row *rows, int64_t n, float *logits) {
    using namespace lpcuda;
    return guarded([&] {
        if (e == nullptr || (n > 0 && rows == nullptr) || n < 0)
            return fail(LP_ERR_INVALID_ARGUMENT, "lpcuda_engine_forward: null argument or n < 0");
        if (n == 0) return (int)LP_OK;
        if (int dev = use_selected_device(); dev != LP_OK) return dev;
        int st = e->spec.dtype == LP_BF16 ? forward_typed<__nv_bfloat16>(e, rows, n, logits)
                                          : forward_typed<float>(e, rows, n, logits);
        if (st != LP_OK) (void)cudaStreamSynchronize(e->stream);   /* leave no work in flight on failure */
        return st;
    });
}

LPCUDA_EXPORT void lpcuda_engine_describe(const lpcuda_engine *e, char *buf, size_t len) {
    if (buf == nullptr || len == 0) return;
    buf[0] = '\0';
    if (e == nullptr) return;
    const int device = lpcuda::selected_device();
    cudaDeviceProp prop;
    const char *name = "?";
    if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) name = prop.name;
    else (void)cudaGetLastError();
    std::snprintf(buf, len, "CUDA %s (device %d), %s weights and KV, GEMM: %s", name, device, lpcuda::dtype_name(e->spec.dtype),
                  e->gemm.describe().c_str());
}

}  // extern "C"
