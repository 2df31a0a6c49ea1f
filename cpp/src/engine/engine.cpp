// The rollout engine's C ABI (linchpin.h, lp_engine_*): weights, prefilled trajectories with their
// KV caches under a memory budget, and rollout runs with continuous batching. Backend-agnostic: all
// model compute goes through Backend (backend.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/backend.h"
#include "engine/model.h"
#include "engine/token_choice.h"

using namespace lp::engine;

namespace {

constexpr int64_t kPrefillChunk = 256;   // rows per forward pass in prefill (bounds the logits buffer)

struct Trajectory {
    int64_t length;
    std::unique_ptr<KvStore> kv;
};

struct Branch {
    int64_t traj, point, forced, request;
    std::vector<int64_t> tokens;
    double sum_logprob = 0, sum_entropy = 0;
    bool finished = false;
};

struct Slot {
    std::unique_ptr<KvStore> kv;
    int64_t branch = -1;   // index into Run::branches, -1 when free
    int64_t filled = 0;    // suffix positions already in kv
    int64_t next_token = 0;
};

struct Run {
    std::vector<Branch> branches;
    std::deque<int64_t> queue;
    std::vector<Slot> slots;
    int64_t max_new = 0;
    std::set<int64_t> eos;
    std::vector<std::vector<int64_t>> stops;
    double temperature = 0, top_p = 1;
    uint64_t seed = 0;
    int64_t remaining = 0;
    int64_t slot_bytes = 0;
};

}  // namespace

struct lp_engine {
    ModelSpec spec;
    Weights weights;
    int threads;
    std::unique_ptr<ThreadPool> pool;   // the CPU backend's work and token choice over rows
    int64_t budget;
    int64_t in_use = 0;
    int64_t valid_tokens = 0;           // ids [0, valid_tokens) may be chosen; the rest pad the embedding
    bool cuda = false, cuda_bf16 = false;   // LP_ENGINE_DEVICE_CUDA / LP_ENGINE_CUDA_BF16
    std::unique_ptr<Backend> backend;   // created by lp_engine_finalize
    bool weights_stale = false;         // weights replaced after finalize, backend not told yet
    std::map<int64_t, Trajectory> trajectories;
    int64_t next_id = 1;
    std::unique_ptr<Run> run;
    std::vector<float> logits;
    std::vector<ChoiceScratch> scratch;   // token choice, one per pool worker
};

namespace {

int budget_error(const lp_engine *e, int64_t need, const char *what) {
    return lp::fail(LP_ERR_OUT_OF_MEMORY,
                    "KV budget exceeded: %s needs %lld bytes, %lld of the %lld-byte budget are in use", what,
                    (long long)need, (long long)e->in_use, (long long)e->budget);
}

bool ends_with(const std::vector<int64_t> &tokens, const std::vector<int64_t> &stop) {
    return !stop.empty() && tokens.size() >= stop.size() &&
           std::equal(stop.begin(), stop.end(), tokens.end() - static_cast<std::ptrdiff_t>(stop.size()));
}

template <typename F>
int guarded(F &&f) {
    lp::clear_error();
    try {
        return f();
    } catch (const BackendError &ex) {
        return lp::fail(ex.status(), "rollout engine backend: %s", ex.what());
    } catch (const std::bad_alloc &) {
        return lp::fail(LP_ERR_OUT_OF_MEMORY, "out of host memory in the rollout engine");
    } catch (const std::exception &ex) {
        return lp::fail(LP_ERR_INTERNAL, "rollout engine: %s", ex.what());
    }
}

}  // namespace

extern "C" LP_API int lp_engine_create(int family, int64_t vocab, int64_t hidden, int64_t intermediate, int64_t layers,
                                       int64_t heads, int64_t kv_heads, int64_t head_dim, double rms_eps, int flags,
                                       const float *inv_freq, int64_t kv_budget_bytes, int num_threads,
                                       lp_engine **out) {
    return guarded([&] {
        if (out == nullptr) return lp::fail(LP_ERR_INVALID_ARGUMENT, "out is null");
        *out = nullptr;
        if (family < LP_FAMILY_LLAMA || family > LP_FAMILY_OLMO2)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "unknown family %d", family);
        if (vocab < 1 || hidden < 1 || intermediate < 1 || layers < 1 || heads < 1 || kv_heads < 1 || head_dim < 2 ||
            head_dim % 2 != 0 || heads % kv_heads != 0 || vocab > INT32_MAX || hidden > INT32_MAX ||
            intermediate > INT32_MAX || heads * head_dim > INT32_MAX)
            return lp::fail(LP_ERR_INVALID_ARGUMENT,
                            "bad model shape vocab=%lld hidden=%lld intermediate=%lld layers=%lld heads=%lld "
                            "kv_heads=%lld head_dim=%lld",
                            (long long)vocab, (long long)hidden, (long long)intermediate, (long long)layers,
                            (long long)heads, (long long)kv_heads, (long long)head_dim);
        if (!(rms_eps > 0) || !std::isfinite(rms_eps)) return lp::fail(LP_ERR_INVALID_ARGUMENT, "rms_eps must be > 0");
        if (inv_freq == nullptr) return lp::fail(LP_ERR_INVALID_ARGUMENT, "inv_freq is null");
        if (kv_budget_bytes < 0) return lp::fail(LP_ERR_INVALID_ARGUMENT, "negative KV budget");
        for (int64_t i = 0; i < head_dim / 2; ++i)
            if (!std::isfinite(inv_freq[i])) return lp::fail(LP_ERR_INVALID_ARGUMENT, "inv_freq[%lld] is not finite", (long long)i);
        auto e = std::make_unique<lp_engine>();
        e->spec = ModelSpec{static_cast<Family>(family), vocab, hidden, intermediate, layers, heads, kv_heads, head_dim,
                            rms_eps, (flags & LP_ENGINE_TIED_EMBEDDINGS) != 0, (flags & LP_ENGINE_QKV_BIAS) != 0,
                            (flags & LP_ENGINE_O_BIAS) != 0, (flags & LP_ENGINE_MLP_BIAS) != 0,
                            std::vector<float>(inv_freq, inv_freq + head_dim / 2)};
        e->cuda = (flags & LP_ENGINE_DEVICE_CUDA) != 0;
        e->cuda_bf16 = (flags & LP_ENGINE_CUDA_BF16) != 0;
        if (e->cuda_bf16 && !e->cuda)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "LP_ENGINE_CUDA_BF16 needs LP_ENGINE_DEVICE_CUDA");
        // The budget counts the backend's bytes: bf16 KV on the CUDA backend takes 2 bytes an element.
        e->spec.kv_elem_bytes = e->cuda_bf16 ? 2 : 4;
        e->threads = num_threads;
        e->pool = std::make_unique<ThreadPool>(num_threads);
        e->scratch.resize(static_cast<size_t>(e->pool->size()));
        e->budget = kv_budget_bytes;
        e->valid_tokens = vocab;
        *out = e.release();
        return (int)LP_OK;
    });
}

extern "C" LP_API void lp_engine_destroy(lp_engine *engine) { delete engine; }

extern "C" LP_API int lp_engine_set_weight(lp_engine *e, const char *name, const float *data, const int64_t *shape,
                                           int64_t ndim) {
    return guarded([&] {
        if (!e || !name || !data || !shape) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument");
        // After finalize the weights may be replaced (an engine following a training model), but only
        // while no KV exists: cached keys/values computed with the old weights would silently mix in.
        if (e->backend && (!e->trajectories.empty() || e->run))
            return lp::fail(LP_ERR_INVALID_ARGUMENT,
                            "cannot replace weight '%s': %zu trajectories are live%s (release them first)", name,
                            e->trajectories.size(), e->run ? " and a rollout run is open" : "");
        for (auto &[expected_name, expected_shape] : expected_weights(e->spec)) {
            if (expected_name != name) continue;
            if (ndim != (int64_t)expected_shape.size() || !std::equal(expected_shape.begin(), expected_shape.end(), shape))
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "weight '%s' has the wrong shape (expected %zu dims, first %lld)",
                                name, expected_shape.size(), (long long)expected_shape[0]);
            int64_t n = 1;
            for (int64_t s : expected_shape) n *= s;
            for (int64_t i = 0; i < n; ++i)
                if (!std::isfinite(data[i]))
                    return lp::fail(LP_ERR_INVALID_ARGUMENT, "weight '%s' has a non-finite value at %lld", name, (long long)i);
            // Same size as before after finalize, so assign() keeps the buffer the backend points into.
            e->weights.tensors[name].assign(data, data + n);
            if (e->backend) e->weights_stale = true;
            return (int)LP_OK;
        }
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "'%s' is not a weight of this model", name);
    });
}

extern "C" LP_API int lp_engine_finalize(lp_engine *e) {
    return guarded([&] {
        if (!e) return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine is null");
        if (e->backend) {
            // Re-finalize after replacing weights: the backend refreshes its copies (device upload on CUDA).
            if (e->weights_stale) {
                e->weights.bind(e->spec);
                e->backend->weights_changed();
                e->weights_stale = false;
            }
            return (int)LP_OK;
        }
        for (auto &[name, shape] : expected_weights(e->spec))
            if (!e->weights.tensors.count(name)) return lp::fail(LP_ERR_INVALID_ARGUMENT, "weight '%s' was not set", name.c_str());
        e->weights.bind(e->spec);
        if (e->cuda) {
            std::unique_ptr<Backend> b;
            int status = make_cuda_backend(e->spec, e->weights, e->cuda_bf16, &b);
            if (status != LP_OK) return status;   // message set by make_cuda_backend
            e->backend = std::move(b);
        } else {
            e->backend = make_cpu_backend(e->spec, e->weights, *e->pool);
        }
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_describe(const lp_engine *e, char *buf, size_t len) {
    return guarded([&] {
        if (!e || !buf || len == 0) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument or empty buffer");
        if (!e->backend) return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine not finalized");
        std::snprintf(buf, len, "%s", e->backend->describe().c_str());
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_set_valid_tokens(lp_engine *e, int64_t n_valid) {
    return guarded([&] {
        if (!e) return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine is null");
        if (n_valid < 1 || n_valid > e->spec.vocab)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "valid token count %lld outside [1, %lld]", (long long)n_valid,
                            (long long)e->spec.vocab);
        if (e->run) return lp::fail(LP_ERR_INVALID_ARGUMENT, "cannot change the valid token count during a rollout run");
        e->valid_tokens = n_valid;
        return (int)LP_OK;
    });
}

extern "C" LP_API int64_t lp_engine_kv_bytes_per_position(const lp_engine *e) {
    return e ? e->spec.kv_bytes_per_position() : 0;
}

extern "C" LP_API int64_t lp_engine_kv_bytes_in_use(const lp_engine *e) { return e ? e->in_use : 0; }

extern "C" LP_API int lp_engine_prefill(lp_engine *e, const int64_t *tokens, const int64_t *lengths, int64_t n,
                                        int64_t top_n_count, int64_t *out_ids, int64_t *topk_ids, float *topk_probs,
                                        float *logits_out) {
    return guarded([&] {
        if (!e || !tokens || !lengths || !out_ids || n < 1) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument or n < 1");
        if (!e->backend || e->weights_stale)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine not finalized (after setting weights, call lp_engine_finalize)");
        const int64_t V = e->spec.vocab;
        if (top_n_count < 0 || top_n_count > e->valid_tokens)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "top_n outside [0, %lld] (the valid tokens)", (long long)e->valid_tokens);
        if (top_n_count > 0 && (!topk_ids || !topk_probs)) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null top-n outputs");
        int64_t total = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (lengths[i] < 1) return lp::fail(LP_ERR_INVALID_ARGUMENT, "trajectory %lld is empty", (long long)i);
            total += lengths[i];
        }
        for (int64_t i = 0; i < total; ++i)
            if (tokens[i] < 0 || tokens[i] >= V)
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "token %lld = %lld outside [0, %lld)", (long long)i,
                                (long long)tokens[i], (long long)V);
        const int64_t need = total * e->spec.kv_bytes_per_position();
        if (e->in_use + need > e->budget) return budget_error(e, need, "this prefill");

        std::vector<Trajectory> made(n);
        std::vector<Row> all;
        all.reserve(total);
        for (int64_t i = 0; i < n; ++i) {
            made[i] = Trajectory{lengths[i], e->backend->allocate_kv(lengths[i])};
            for (int64_t t = 0, base = (int64_t)all.size(); t < lengths[i]; ++t)
                all.push_back(Row{tokens[base + t], t, made[i].kv.get(), t, made[i].kv.get(), t + 1, nullptr, 0});
        }
        // Chunks in order: a chunk's rows attend to positions written by earlier chunks.
        for (int64_t c0 = 0; c0 < total; c0 += kPrefillChunk) {
            int64_t c1 = std::min(total, c0 + kPrefillChunk);
            std::vector<Row> chunk(all.begin() + c0, all.begin() + c1);
            float *lg = logits_out;
            if (lg) {
                lg += c0 * V;
            } else if (top_n_count > 0) {
                e->logits.resize((c1 - c0) * V);
                lg = e->logits.data();
            }   // else nobody reads the logits: the backend skips the LM head
            e->backend->forward(chunk, lg);
            if (top_n_count > 0)
                e->pool->parallel_chunks(c1 - c0, 1, [&](int64_t a, int64_t b, int) {
                    for (int64_t r = c0 + a; r < c0 + b; ++r)
                        top_n(lg + (r - c0) * V, e->valid_tokens, top_n_count, topk_ids + r * top_n_count, topk_probs + r * top_n_count);
                });
        }
        for (int64_t i = 0; i < n; ++i) {
            out_ids[i] = e->next_id++;
            e->trajectories[out_ids[i]] = std::move(made[i]);
        }
        e->in_use += need;
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_release(lp_engine *e, int64_t id) {
    return guarded([&] {
        if (!e) return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine is null");
        auto it = e->trajectories.find(id);
        if (it == e->trajectories.end()) return lp::fail(LP_ERR_INVALID_ARGUMENT, "no trajectory %lld", (long long)id);
        if (e->run) {
            for (const Branch &b : e->run->branches)
                if (b.traj == id && !b.finished)
                    return lp::fail(LP_ERR_INVALID_ARGUMENT, "trajectory %lld is in use by the current rollout run", (long long)id);
        }
        e->in_use -= it->second.length * e->spec.kv_bytes_per_position();
        e->trajectories.erase(it);
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_rollout_begin(lp_engine *e, const int64_t *traj_ids, const int64_t *branch_points,
                                              const int64_t *forced_tokens, const int64_t *request_ids, int64_t n,
                                              int64_t max_new, const int64_t *eos_ids, int64_t n_eos,
                                              const int64_t *stop_tokens, const int64_t *stop_offsets, int64_t n_stop,
                                              double temperature, double top_p, uint64_t seed, int64_t max_batch) {
    return guarded([&] {
        if (!e || !traj_ids || !branch_points || !forced_tokens || !request_ids || n < 1)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument or n < 1");
        if (!e->backend || e->weights_stale)
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine not finalized (after setting weights, call lp_engine_finalize)");
        if (e->run) return lp::fail(LP_ERR_INVALID_ARGUMENT, "a rollout run is already open (call lp_engine_rollout_end)");
        if (max_new < 1 || max_batch < 1) return lp::fail(LP_ERR_INVALID_ARGUMENT, "max_new and max_batch must be >= 1");
        if (std::isnan(temperature) || !(top_p > 0 && top_p <= 1))
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "temperature NaN or top_p outside (0, 1]");
        if ((n_eos > 0 && !eos_ids) || n_eos < 0 || n_stop < 0 || (n_stop > 0 && (!stop_tokens || !stop_offsets)))
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad EOS or stop-sequence arguments");
        const int64_t V = e->spec.vocab;
        auto run = std::make_unique<Run>();
        for (int64_t i = 0; i < n; ++i) {
            auto it = e->trajectories.find(traj_ids[i]);
            if (it == e->trajectories.end())
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld: no trajectory %lld", (long long)i, (long long)traj_ids[i]);
            if (branch_points[i] < 0 || branch_points[i] > it->second.length)
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld: branch point %lld outside [0, %lld]", (long long)i,
                                (long long)branch_points[i], (long long)it->second.length);
            if (forced_tokens[i] < 0 || forced_tokens[i] >= V)
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld: token %lld outside [0, %lld)", (long long)i,
                                (long long)forced_tokens[i], (long long)V);
            run->branches.push_back(Branch{traj_ids[i], branch_points[i], forced_tokens[i], request_ids[i], {}, 0, 0, false});
            run->queue.push_back(i);
        }
        for (int64_t i = 0; i < n_eos; ++i) run->eos.insert(eos_ids[i]);
        for (int64_t s = 0; s < n_stop; ++s) {
            if (stop_offsets[s + 1] <= stop_offsets[s] || stop_offsets[0] != 0)
                return lp::fail(LP_ERR_INVALID_ARGUMENT, "stop sequence %lld is empty or offsets are not increasing", (long long)s);
            run->stops.emplace_back(stop_tokens + stop_offsets[s], stop_tokens + stop_offsets[s + 1]);
        }
        run->max_new = max_new;
        run->temperature = temperature;
        run->top_p = top_p;
        run->seed = seed;
        run->remaining = n;
        // Slots: as many as max_batch, the branch count and the KV budget allow. A slot holds a branch's
        // suffix: the forced token and all generated tokens but the last (max_new positions).
        const int64_t slot_bytes = max_new * e->spec.kv_bytes_per_position();
        const int64_t by_budget = slot_bytes > 0 ? (e->budget - e->in_use) / slot_bytes : n;
        const int64_t slots = std::min({max_batch, n, by_budget});
        if (slots < 1) return budget_error(e, slot_bytes, "one branch slot");
        for (int64_t s = 0; s < slots; ++s) run->slots.push_back(Slot{e->backend->allocate_kv(max_new), -1, 0, 0});
        run->slot_bytes = slots * slot_bytes;
        e->in_use += run->slot_bytes;
        e->run = std::move(run);
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_rollout_step(lp_engine *e, int64_t *finished, int64_t *n_finished, int *done) {
    return guarded([&] {
        if (!e || !finished || !n_finished || !done) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument");
        if (!e->run) return lp::fail(LP_ERR_INVALID_ARGUMENT, "no rollout run is open");
        Run &run = *e->run;
        const int64_t V = e->spec.vocab;
        *n_finished = 0;
        while (*n_finished == 0 && run.remaining > 0) {
            // Continuous batching: every free slot takes the next queued branch.
            for (Slot &slot : run.slots) {
                if (slot.branch >= 0 || run.queue.empty()) continue;
                slot.branch = run.queue.front();
                run.queue.pop_front();
                slot.filled = 0;
                slot.next_token = run.branches[slot.branch].forced;
            }
            std::vector<Row> rows;
            std::vector<Slot *> active;
            for (Slot &slot : run.slots) {
                if (slot.branch < 0) continue;
                const Branch &b = run.branches[slot.branch];
                const Trajectory &traj = e->trajectories.at(b.traj);
                rows.push_back(Row{slot.next_token, b.point + slot.filled, slot.kv.get(), slot.filled, traj.kv.get(),
                                   b.point, slot.kv.get(), slot.filled + 1});
                active.push_back(&slot);
            }
            e->logits.resize(rows.size() * V);
            e->backend->forward(rows, e->logits.data());
            // Token choice, rows spread over the threads (a row over a large vocabulary is ~1 ms).
            std::vector<Choice> chosen(rows.size());
            e->pool->parallel_for(static_cast<int64_t>(rows.size()), [&](int64_t r, int worker) {
                const Branch &b = run.branches[active[r]->branch];
                double u = run.temperature > 0 ? counter_uniform(run.seed, (uint64_t)b.request, b.tokens.size()) : 0.0;
                chosen[r] = choose(e->logits.data() + r * V, e->valid_tokens, run.temperature, run.top_p, u, e->scratch[worker]);
            });
            for (size_t r = 0; r < rows.size(); ++r) {
                Slot &slot = *active[r];
                Branch &b = run.branches[slot.branch];
                const Choice &c = chosen[r];
                b.tokens.push_back(c.token);
                b.sum_logprob += c.logprob;
                b.sum_entropy += c.entropy;
                ++slot.filled;
                slot.next_token = c.token;
                bool stop = run.eos.count(c.token) || (int64_t)b.tokens.size() >= run.max_new;
                for (const auto &seq : run.stops) stop = stop || ends_with(b.tokens, seq);
                if (stop) {
                    b.finished = true;
                    finished[(*n_finished)++] = slot.branch;
                    slot.branch = -1;
                    --run.remaining;
                }
            }
        }
        *done = run.remaining == 0 ? 1 : 0;
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_rollout_result(lp_engine *e, int64_t i, int64_t *tokens, int64_t capacity,
                                               int64_t *length, double *sum_logprob, double *mean_entropy) {
    return guarded([&] {
        if (!e || !length || !sum_logprob || !mean_entropy) return lp::fail(LP_ERR_INVALID_ARGUMENT, "null argument");
        if (!e->run) return lp::fail(LP_ERR_INVALID_ARGUMENT, "no rollout run is open");
        if (i < 0 || i >= (int64_t)e->run->branches.size()) return lp::fail(LP_ERR_INVALID_ARGUMENT, "no branch %lld", (long long)i);
        const Branch &b = e->run->branches[i];
        if (!b.finished) return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld has not finished", (long long)i);
        int64_t n = (int64_t)b.tokens.size();
        if (n > capacity || (n > 0 && !tokens))
            return lp::fail(LP_ERR_INVALID_ARGUMENT, "branch %lld has %lld tokens, capacity %lld", (long long)i, (long long)n,
                            (long long)capacity);
        std::copy(b.tokens.begin(), b.tokens.end(), tokens);
        *length = n;
        *sum_logprob = b.sum_logprob;
        *mean_entropy = n > 0 ? b.sum_entropy / static_cast<double>(n) : 0.0;
        return (int)LP_OK;
    });
}

extern "C" LP_API int lp_engine_rollout_end(lp_engine *e) {
    return guarded([&] {
        if (!e) return lp::fail(LP_ERR_INVALID_ARGUMENT, "engine is null");
        if (e->run) {
            e->in_use -= e->run->slot_bytes;
            e->run.reset();
        }
        return (int)LP_OK;
    });
}
