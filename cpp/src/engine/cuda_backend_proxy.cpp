// The rollout engine's CUDA backend as seen from liblinchpin.so: a Backend whose every call goes
// through the dispatcher into liblinchpin_cuda.so (lpcuda_engine_*), so this library never links
// CUDA. Weights are uploaded from the engine's fp32 host copies; KV stores live in device memory;
// forward returns fp32 logits to the host, where the engine keeps choosing tokens (token choice on
// the device, lp_cuda_topk / lp_cuda_sample, is not wired into the decode loop yet).
#include <string>

#include "core/cuda_engine_api.h"
#include "core/error.h"
#include "engine/backend.h"

namespace lp::engine {
namespace {

class CudaKvStore final : public KvStore {
public:
    CudaKvStore(const lp::CudaEngineApi *api, lpcuda_engine *engine, lpcuda_kv *kv, int64_t capacity)
        : api_(api), engine_(engine), kv_(kv), capacity_(capacity) {}
    ~CudaKvStore() override { api_->kv_free(engine_, kv_); }
    CudaKvStore(const CudaKvStore &) = delete;
    CudaKvStore &operator=(const CudaKvStore &) = delete;
    int64_t capacity() const override { return capacity_; }
    lpcuda_kv *handle() const { return kv_; }

private:
    const lp::CudaEngineApi *api_;
    lpcuda_engine *engine_;
    lpcuda_kv *kv_;
    int64_t capacity_;
};

lpcuda_kv *handle_of(const KvStore *store) {
    return store ? static_cast<const CudaKvStore *>(store)->handle() : nullptr;
}

// The engine's weight pointers in the ABI's layout (LayerWeights and lpcuda_layer_weights match field for field).
struct HostWeights {
    std::vector<lpcuda_layer_weights> layers;
    lpcuda_model_weights model{};

    explicit HostWeights(const Weights &w) {
        for (const LayerWeights &L : w.layers)
            layers.push_back(lpcuda_layer_weights{L.input_norm, L.post_attn_norm, L.post_ff_norm, L.wq, L.wk, L.wv,
                                                  L.wo, L.bq, L.bk, L.bv, L.bo, L.q_norm, L.k_norm, L.gate, L.up,
                                                  L.down, L.b_gate, L.b_up, L.b_down});
        model = lpcuda_model_weights{w.embed, w.final_norm, w.lm_head, layers.data()};
    }
};

class CudaBackendProxy final : public Backend {
public:
    CudaBackendProxy(const lp::CudaEngineApi *api, lpcuda_engine *engine, const Weights &weights)
        : api_(api), engine_(engine), weights_(weights) {}
    ~CudaBackendProxy() override { api_->destroy(engine_); }
    CudaBackendProxy(const CudaBackendProxy &) = delete;
    CudaBackendProxy &operator=(const CudaBackendProxy &) = delete;

    std::unique_ptr<KvStore> allocate_kv(int64_t capacity) override {
        lpcuda_kv *kv = nullptr;
        check(api_->kv_alloc(engine_, capacity, &kv));
        return std::make_unique<CudaKvStore>(api_, engine_, kv, capacity);
    }

    void forward(const std::vector<Row> &rows, float *logits) override {
        rows_.clear();
        for (const Row &r : rows)
            rows_.push_back(lpcuda_row{r.token, r.position, handle_of(r.dest), r.dest_index, handle_of(r.shared),
                                       r.prefix, handle_of(r.suffix), r.n_suffix});
        check(api_->forward(engine_, rows_.data(), static_cast<int64_t>(rows_.size()), logits));
    }

    void weights_changed() override {
        HostWeights host(weights_);
        check(api_->update_weights(engine_, &host.model));
    }

    std::string describe() const override {
        char buf[512];
        api_->describe(engine_, buf, sizeof buf);
        return buf;
    }

private:
    void check(int status) const {
        if (status != LP_OK) throw BackendError(status, api_->last_error());
    }

    const lp::CudaEngineApi *api_;
    lpcuda_engine *engine_;
    const Weights &weights_;
    std::vector<lpcuda_row> rows_;
};

}  // namespace

int make_cuda_backend(const ModelSpec &spec, const Weights &weights, bool bf16, std::unique_ptr<Backend> *out) {
    const lp::CudaEngineApi *api = lp::cuda_engine_api();
    if (api == nullptr)
        return lp::fail(lp::cuda_unavailability_status(), "the CUDA engine backend is not loaded: %s",
                        lp::cuda_unavailability().c_str());
    const int flags = (spec.tied ? LP_ENGINE_TIED_EMBEDDINGS : 0) | (spec.qkv_bias ? LP_ENGINE_QKV_BIAS : 0) |
                      (spec.o_bias ? LP_ENGINE_O_BIAS : 0) | (spec.mlp_bias ? LP_ENGINE_MLP_BIAS : 0);
    lpcuda_engine_spec s{static_cast<int>(spec.family), flags, bf16 ? LP_BF16 : LP_F32, spec.vocab, spec.hidden,
                         spec.intermediate, spec.layers, spec.heads, spec.kv_heads, spec.head_dim, spec.rms_eps,
                         spec.inv_freq.data()};
    HostWeights host(weights);
    lpcuda_engine *engine = nullptr;
    int status = api->create(&s, &host.model, &engine);
    if (status != LP_OK) return lp::fail(status, "CUDA engine backend: %s", api->last_error());
    // The host engine's budget arithmetic (spec.kv_bytes_per_position) must be the device's.
    const int64_t device_bytes = api->kv_bytes(engine, 1);
    if (device_bytes != spec.kv_bytes_per_position()) {
        api->destroy(engine);
        return lp::fail(LP_ERR_INTERNAL, "CUDA engine backend: KV bytes per position %lld != host's %lld",
                        (long long)device_bytes, (long long)spec.kv_bytes_per_position());
    }
    *out = std::make_unique<CudaBackendProxy>(api, engine, weights);
    return LP_OK;
}

}  // namespace lp::engine
