// Turning a row of logits into outputs: the top-n tokens with probabilities (alternatives for mask
// mining), the next token (greedy or sampled with a counter-based RNG), its log-probability and the
// distribution's entropy. All in double precision from fp32 logits.
#ifndef LP_ENGINE_TOKEN_CHOICE_H
#define LP_ENGINE_TOKEN_CHOICE_H

#include <cstdint>
#include <vector>

namespace lp::engine {

// The top n tokens of logits[0, V), most probable first, ties to the lowest id, with softmax probabilities.
void top_n(const float *logits, int64_t V, int64_t n, int64_t *ids, float *probs);

// A uniform double in [0, 1) that depends only on (seed, request, step): splitmix64 chained over
// the three, so a branch draws the same numbers whatever it is batched with.
double counter_uniform(uint64_t seed, uint64_t request, uint64_t step);

// Buffers choose() reuses between calls (one per thread): tempered probabilities and token ids.
struct ChoiceScratch {
    std::vector<double> p;
    std::vector<int32_t> ids;
};

struct Choice {
    int64_t token;
    double logprob;   // log softmax(logits)[token], temperature 1
    double entropy;   // entropy of softmax(logits), temperature 1
};

// Greedy (arg-max, lowest id on ties) when temperature <= 0; else dev.linchpin.model.Generation.draw's
// rule: softmax(logits / temperature), the most probable tokens (ties to the lowest id) up to top_p of
// the mass, then the token where u · kept mass falls. With top_p >= 1 tokens are walked in id order
// (the same distribution); with top_p < 1 the nucleus and the token are found by weighted selection
// in that order, not by sorting the vocabulary.
Choice choose(const float *logits, int64_t V, double temperature, double top_p, double u, ChoiceScratch &scratch);

}  // namespace lp::engine

#endif
