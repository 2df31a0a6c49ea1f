// The rollout engine's way into liblinchpin_cuda.so: the lpcuda_engine_* functions the dispatcher
// (cuda_dispatch.cpp) resolved with dlsym when lp_cuda_load succeeded. Internal to liblinchpin.so.
#ifndef LP_CORE_CUDA_ENGINE_API_H
#define LP_CORE_CUDA_ENGINE_API_H

#include <string>

#include "linchpin_cuda_backend.h"

namespace lp {

struct CudaEngineApi {
    lpcuda_engine_create_fn create = nullptr;
    lpcuda_engine_update_weights_fn update_weights = nullptr;
    lpcuda_engine_destroy_fn destroy = nullptr;
    lpcuda_engine_kv_bytes_fn kv_bytes = nullptr;
    lpcuda_engine_kv_alloc_fn kv_alloc = nullptr;
    lpcuda_engine_kv_free_fn kv_free = nullptr;
    lpcuda_engine_forward_fn forward = nullptr;
    lpcuda_engine_describe_fn describe = nullptr;
    lpcuda_last_error_fn last_error = nullptr;
};

// The table, or nullptr while the CUDA backend is not loaded (lp_cuda_load not called or failed).
const CudaEngineApi *cuda_engine_api();

// Why the CUDA backend is not loaded (the last lp_cuda_load failure), for error messages, and that
// failure's status (LP_ERR_UNAVAILABLE, or LP_ERR_BACKEND_BROKEN where a GPU is there but the backend failed).
std::string cuda_unavailability();
int cuda_unavailability_status();

}  // namespace lp

#endif
