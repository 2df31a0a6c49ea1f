#include "engine/model.h"

namespace lp::engine {

std::vector<std::pair<std::string, std::vector<int64_t>>> expected_weights(const ModelSpec &s) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    const int64_t D = s.hidden, F = s.intermediate, q = s.heads * s.head_dim, kv = s.kv_width();
    out.push_back({"model.embed_tokens.weight", {s.vocab, D}});
    for (int64_t l = 0; l < s.layers; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        if (!s.post_norm()) out.push_back({p + "input_layernorm.weight", {D}});
        std::string a = p + "self_attn.";
        out.push_back({a + "q_proj.weight", {q, D}});
        out.push_back({a + "k_proj.weight", {kv, D}});
        out.push_back({a + "v_proj.weight", {kv, D}});
        out.push_back({a + "o_proj.weight", {D, q}});
        if (s.qkv_bias) {
            out.push_back({a + "q_proj.bias", {q}});
            out.push_back({a + "k_proj.bias", {kv}});
            out.push_back({a + "v_proj.bias", {kv}});
        }
        if (s.o_bias) out.push_back({a + "o_proj.bias", {D}});
        if (s.family == Family::Qwen3) {
            out.push_back({a + "q_norm.weight", {s.head_dim}});
            out.push_back({a + "k_norm.weight", {s.head_dim}});
        } else if (s.family == Family::Olmo2) {
            out.push_back({a + "q_norm.weight", {q}});
            out.push_back({a + "k_norm.weight", {kv}});
        }
        std::string m = p + "mlp.";
        out.push_back({m + "gate_proj.weight", {F, D}});
        out.push_back({m + "up_proj.weight", {F, D}});
        out.push_back({m + "down_proj.weight", {D, F}});
        if (s.mlp_bias) {
            out.push_back({m + "gate_proj.bias", {F}});
            out.push_back({m + "up_proj.bias", {F}});
            out.push_back({m + "down_proj.bias", {D}});
        }
        out.push_back({p + "post_attention_layernorm.weight", {D}});
        if (s.post_norm()) out.push_back({p + "post_feedforward_layernorm.weight", {D}});
    }
    out.push_back({"model.norm.weight", {D}});
    if (!s.tied) out.push_back({"lm_head.weight", {s.vocab, D}});
    return out;
}

void Weights::bind(const ModelSpec &s) {
    auto get = [&](const std::string &name) -> const float * {
        auto it = tensors.find(name);
        return it == tensors.end() ? nullptr : it->second.data();
    };
    embed = get("model.embed_tokens.weight");
    final_norm = get("model.norm.weight");
    lm_head = s.tied ? embed : get("lm_head.weight");
    layers.clear();
    for (int64_t l = 0; l < s.layers; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".", a = p + "self_attn.", m = p + "mlp.";
        layers.push_back(LayerWeights{
            get(p + "input_layernorm.weight"), get(p + "post_attention_layernorm.weight"),
            get(p + "post_feedforward_layernorm.weight"),
            get(a + "q_proj.weight"), get(a + "k_proj.weight"), get(a + "v_proj.weight"), get(a + "o_proj.weight"),
            get(a + "q_proj.bias"), get(a + "k_proj.bias"), get(a + "v_proj.bias"), get(a + "o_proj.bias"),
            get(a + "q_norm.weight"), get(a + "k_norm.weight"),
            get(m + "gate_proj.weight"), get(m + "up_proj.weight"), get(m + "down_proj.weight"),
            get(m + "gate_proj.bias"), get(m + "up_proj.bias"), get(m + "down_proj.bias")});
    }
}

}  // namespace lp::engine
