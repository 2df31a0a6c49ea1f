// The model an engine runs: its shape (ModelSpec), the weight names and shapes each family expects
// (the same table as dev.linchpin.model.CausalLM.parameterShapes), and fp32 host copies of them.
#ifndef LP_ENGINE_MODEL_H
#define LP_ENGINE_MODEL_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lp::engine {

enum class Family { Llama = 0, Qwen2 = 1, Qwen3 = 2, Olmo2 = 3 };

struct ModelSpec {
    Family family;
    int64_t vocab, hidden, intermediate, layers, heads, kv_heads, head_dim;
    double rms_eps;
    bool tied, qkv_bias, o_bias, mlp_bias;
    std::vector<float> inv_freq;   // [head_dim / 2]
    int64_t kv_elem_bytes = 4;     // bytes of one cached key/value element in the backend (fp32: 4, bf16: 2)

    bool post_norm() const { return family == Family::Olmo2; }
    // KV floats one position takes in one layer, keys or values.
    int64_t kv_width() const { return kv_heads * head_dim; }
    int64_t kv_bytes_per_position() const { return layers * 2 * kv_width() * kv_elem_bytes; }
};

// Every weight name the spec needs, with its shape, in checkpoint order.
std::vector<std::pair<std::string, std::vector<int64_t>>> expected_weights(const ModelSpec &spec);

// Pointers into the weight store for one decoder layer; nullptr where the family has no such tensor.
struct LayerWeights {
    const float *input_norm, *post_attn_norm, *post_ff_norm;
    const float *wq, *wk, *wv, *wo, *bq, *bk, *bv, *bo, *q_norm, *k_norm;
    const float *gate, *up, *down, *b_gate, *b_up, *b_down;
};

struct Weights {
    std::map<std::string, std::vector<float>> tensors;
    std::vector<LayerWeights> layers;
    const float *embed = nullptr, *final_norm = nullptr, *lm_head = nullptr;

    // Resolves the pointers above; the caller has checked that every expected tensor is present.
    void bind(const ModelSpec &spec);
};

}  // namespace lp::engine

#endif
