// Staircase attention on the CPU: the attention of branch rollouts (contract in linchpin.h,
// lp_cpu_staircase_attention). Each query row attends to a prefix [0, prefix) of a shared KV
// sequence (a trajectory's prefill cache) plus the first n_suffix rows of its own suffix KV.
//
// The shared part is one pass over the shared KV in tiles of kTile positions: a tile is loaded once
// and serves every row whose prefix reaches it, so with B branches the shared KV is read once, not
// B times. Each row keeps an online-softmax state (max, Σexp, Σexp·v) for the shared part and one
// for its suffix; the two are merged by log-sum-exp. Tile boundaries are fixed multiples of kTile
// and a row's arithmetic never depends on the other rows, so a row's output is bit-identical
// whatever it is batched with (continuous batching relies on this).
#ifndef LP_ENGINE_STAIRCASE_ATTENTION_H
#define LP_ENGINE_STAIRCASE_ATTENTION_H

#include <cstdint>

namespace lp::engine {

struct AttnRow {
    const float *q;          // [H * d], heads contiguous
    int64_t prefix;          // attends shared positions [0, prefix)
    const float *k_suffix;   // suffix keys, position p at k_suffix + p * kv_stride
    const float *v_suffix;
    int64_t n_suffix;        // attends suffix positions [0, n_suffix)
    float *out;              // [H * d]
};

struct SharedKv {
    const float *k;          // position t, KV head g at k + t * stride + g * d
    const float *v;
    int64_t stride;          // floats between consecutive positions (>= Hkv * d)
};

struct AttnShape {
    int64_t H, Hkv, d;
    float scale;
    int64_t suffix_stride;   // floats between consecutive suffix positions
};

// Computes the output heads of KV head g for every row (the unit of parallel work).
void staircase_attention_kv_head(const SharedKv &shared, const AttnRow *rows, int64_t n_rows, const AttnShape &shape,
                                 int64_t g);

}  // namespace lp::engine

#endif
