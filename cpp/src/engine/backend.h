// The compute backend of the rollout engine. The engine (engine.cpp: trajectories, branch
// scheduling, continuous batching, token choice) talks to the model only through this interface, so
// a CUDA backend (cuBLAS GEMMs, device KV stores, the staircase kernel in kernels/, CUDA graphs for
// the decode step) slots in next to CpuBackend without touching the scheduler.
#ifndef LP_ENGINE_BACKEND_H
#define LP_ENGINE_BACKEND_H

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/thread_pool.h"

namespace lp::engine {

// A backend failure with its lp status (LP_ERR_CUDA, LP_ERR_OUT_OF_MEMORY, ...); the engine's C ABI
// returns that status with the message (engine.cpp, guarded).
class BackendError : public std::runtime_error {
public:
    BackendError(int status, const std::string &message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

// Keys and values for `capacity` positions of every layer, in the backend's memory.
class KvStore {
public:
    virtual ~KvStore() = default;
    virtual int64_t capacity() const = 0;
};

// One token to run: its id and position, where its key/value go, and what it attends to:
// positions [0, prefix) of `shared` plus positions [0, n_suffix) of `suffix` (which, for a branch,
// is its own slot and includes the row's own key at dest_index = n_suffix - 1).
struct Row {
    int64_t token, position;
    KvStore *dest;
    int64_t dest_index;
    const KvStore *shared;
    int64_t prefix;
    const KvStore *suffix;
    int64_t n_suffix;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::unique_ptr<KvStore> allocate_kv(int64_t capacity) = 0;
    // Runs `rows` through the model (writing their keys and values) and their logits [rows.size(),
    // vocab] to host memory; logits == nullptr skips the final norm and the LM head (a prefill whose
    // logits no one reads). Rows sharing a `shared` store are attended in one staircase pass over it.
    virtual void forward(const std::vector<Row> &rows, float *logits) = 0;
    // The host weights were replaced in place (same names and shapes; no KV exists): refresh any copy.
    virtual void weights_changed() = 0;
    // What the backend runs on (device, dtype, GEMM path), for logs and tests.
    virtual std::string describe() const = 0;
};

// The CPU backend: fp32 weights in host memory, own GEMM for decode rows and OpenBLAS for prefill, the
// staircase CPU twin; all parallel work on `pool` (the engine's, shared with token choice).
std::unique_ptr<Backend> make_cpu_backend(const ModelSpec &spec, const Weights &weights, ThreadPool &pool);

// The CUDA backend (cuda_backend_proxy.cpp): a proxy over liblinchpin_cuda.so reached through the
// dispatcher, weights uploaded to the device (bf16 or fp32). Returns an lp status; on failure the
// error message is set (LP_ERR_UNAVAILABLE when the CUDA backend cannot be loaded).
int make_cuda_backend(const ModelSpec &spec, const Weights &weights, bool bf16, std::unique_ptr<Backend> *out);

}  // namespace lp::engine

#endif
