// C ABI of the engine's token choice (lp_cpu_topk, lp_cpu_sample; contract in linchpin.h): row-by-row
// wrappers of top_n / counter_uniform / choose, so the CUDA twins (kernels/token_choice.cu) can be
// checked against exactly the code the CPU engine runs.
#include <cmath>
#include <new>
#include <vector>

#include "core/error.h"
#include "engine/token_choice.h"

extern "C" LP_API int lp_cpu_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids,
                                  float *probs) {
    lp::clear_error();
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V || n < 1 || n > V_valid)
        return lp::fail(LP_ERR_INVALID_ARGUMENT,
                        "lp_cpu_topk: need B >= 0, 1 <= V_valid <= V and 1 <= n <= V_valid (B=%lld V=%lld V_valid=%lld "
                        "n=%lld)",
                        (long long)B, (long long)V, (long long)V_valid, (long long)n);
    if (B == 0) return LP_OK;
    if (!logits || !ids || !probs) return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cpu_topk: null pointer");
    // Rows keep their stride V; only the first V_valid logits of each are candidates.
    for (int64_t r = 0; r < B; ++r) lp::engine::top_n(logits + r * V, V_valid, n, ids + r * n, probs + r * n);
    return LP_OK;
}

extern "C" LP_API int lp_cpu_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature,
                                    double top_p, uint64_t seed, const int64_t *request_ids, const int64_t *steps,
                                    int64_t *tokens, double *logprob, double *entropy) {
    lp::clear_error();
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cpu_sample: need B >= 0 and 1 <= V_valid <= V (B=%lld V=%lld V_valid=%lld)",
                        (long long)B, (long long)V, (long long)V_valid);
    if (std::isnan(temperature) || std::isnan(top_p))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cpu_sample: temperature and top_p must not be NaN");
    if (B == 0) return LP_OK;
    if (!logits || !tokens || (temperature > 0 && (!request_ids || !steps)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cpu_sample: null pointer");
    try {
        lp::engine::ChoiceScratch scratch;
        for (int64_t r = 0; r < B; ++r) {
            // Same draw as the engine: u only matters when sampling.
            const double u = temperature > 0 ? lp::engine::counter_uniform(seed, (uint64_t)request_ids[r], (uint64_t)steps[r])
                                             : 0.0;
            const lp::engine::Choice c = lp::engine::choose(logits + r * V, V_valid, temperature, top_p, u, scratch);
            tokens[r] = c.token;
            if (logprob) logprob[r] = c.logprob;
            if (entropy) entropy[r] = c.entropy;
        }
        return LP_OK;
    } catch (const std::bad_alloc &) {
        return lp::fail(LP_ERR_OUT_OF_MEMORY, "lp_cpu_sample: out of host memory");
    }
}
