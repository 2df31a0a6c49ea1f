// Lazy CUDA backend: liblinchpin_cuda.so is dlopen'ed on the first lp_cuda_load() and never linked,
// so hosts without a CUDA driver load liblinchpin.so (and the JVM) without ever touching CUDA.
#include <dlfcn.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "core/error.h"
#include "core/cuda_engine_api.h"
#include "linchpin_cuda_backend.h"

namespace {

struct CudaBackend {
    void *handle = nullptr;
    lpcuda_last_error_fn last_error = nullptr;
    lpcuda_use_device_fn use_device = nullptr;
    lpcuda_device_count_fn device_count = nullptr;
    lpcuda_masked_linear_ce_workspace_size_fn ce_workspace_size = nullptr;
    lpcuda_masked_linear_ce_fn masked_linear_ce = nullptr;
    lpcuda_malloc_fn malloc = nullptr;
    lpcuda_free_fn free = nullptr;
    lpcuda_memcpy_h2d_fn memcpy_h2d = nullptr;
    lpcuda_memcpy_d2h_fn memcpy_d2h = nullptr;
    lpcuda_memset_fn memset = nullptr;
    lpcuda_synchronize_fn synchronize = nullptr;
    lpcuda_device_name_fn device_name = nullptr;
    lpcuda_mem_get_info_fn mem_get_info = nullptr;
    lpcuda_staircase_attention_workspace_size_fn staircase_workspace_size = nullptr;
    lpcuda_staircase_attention_fn staircase_attention = nullptr;
    lpcuda_topk_fn topk = nullptr;
    lpcuda_sample_fn sample = nullptr;
    lp::CudaEngineApi engine;   // the rollout engine's CUDA backend (lpcuda_engine_*)
};

std::mutex g_mutex;
CudaBackend g_backend;          // filled once, under g_mutex; read-only afterwards
bool g_loaded = false;
std::string g_failure;          // why the last load failed, repeated on later calls
int g_failure_status = LP_ERR_UNAVAILABLE;   // and its status (LP_ERR_UNAVAILABLE or LP_ERR_BACKEND_BROKEN)

// Directory of liblinchpin.so itself: the default place of the backend (JavaCPP extracts both there).
std::string own_directory() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&lp_cuda_load), &info) == 0 || info.dli_fname == nullptr) return "";
    std::string path(info.dli_fname);
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

template <typename Fn>
bool resolve(void *handle, const char *name, Fn *out, std::string *why) {
    void *sym = dlsym(handle, name);
    if (sym == nullptr) {
        *why = std::string("the CUDA backend lacks symbol ") + name + " (a stale build, or not liblinchpin_cuda.so)";
        return false;
    }
    *out = reinterpret_cast<Fn>(sym);
    return true;
}

// Records a failed load and returns its status: LP_ERR_UNAVAILABLE (no CUDA here) or
// LP_ERR_BACKEND_BROKEN (CUDA should work here but the backend failed).
int load_failed(int status, const std::string &why) {
    g_failure = why;
    g_failure_status = status;
    return lp::fail(status, "%s", why.c_str());
}

int load_locked(const char *path) {
    std::string lib = (path != nullptr && path[0] != '\0') ? std::string(path)
                                                             : own_directory() + "/liblinchpin_cuda.so";
    struct stat st;
    if (stat(lib.c_str(), &st) != 0) {
        return load_failed(LP_ERR_UNAVAILABLE, "the CUDA backend " + lib +
                                                   " does not exist (was the project built where nvcc is installed?)");
    }
    // RTLD_LOCAL keeps the backend's static cudart symbols away from libtorch's own CUDA runtime.
    void *handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char *err = dlerror();
        return load_failed(LP_ERR_BACKEND_BROKEN, "the CUDA backend " + lib + " exists but does not load: " +
                                                      (err ? err : "unknown dlopen error"));
    }
    CudaBackend b;
    b.handle = handle;
    lpcuda_abi_version_fn abi = nullptr;
    lpcuda_init_fn init = nullptr;
    std::string why;
    bool ok = resolve(handle, "lpcuda_abi_version", &abi, &why) &&
              resolve(handle, "lpcuda_last_error", &b.last_error, &why) &&
              resolve(handle, "lpcuda_init", &init, &why) &&
              resolve(handle, "lpcuda_use_device", &b.use_device, &why) &&
              resolve(handle, "lpcuda_device_count", &b.device_count, &why) &&
              resolve(handle, "lpcuda_masked_linear_ce_workspace_size", &b.ce_workspace_size, &why) &&
              resolve(handle, "lpcuda_masked_linear_ce", &b.masked_linear_ce, &why) &&
              resolve(handle, "lpcuda_malloc", &b.malloc, &why) &&
              resolve(handle, "lpcuda_free", &b.free, &why) &&
              resolve(handle, "lpcuda_memcpy_h2d", &b.memcpy_h2d, &why) &&
              resolve(handle, "lpcuda_memcpy_d2h", &b.memcpy_d2h, &why) &&
              resolve(handle, "lpcuda_memset", &b.memset, &why) &&
              resolve(handle, "lpcuda_synchronize", &b.synchronize, &why) &&
              resolve(handle, "lpcuda_device_name", &b.device_name, &why) &&
              resolve(handle, "lpcuda_mem_get_info", &b.mem_get_info, &why) &&
              resolve(handle, "lpcuda_staircase_attention_workspace_size", &b.staircase_workspace_size, &why) &&
              resolve(handle, "lpcuda_staircase_attention", &b.staircase_attention, &why) &&
              resolve(handle, "lpcuda_topk", &b.topk, &why) &&
              resolve(handle, "lpcuda_sample", &b.sample, &why) &&
              resolve(handle, "lpcuda_engine_create", &b.engine.create, &why) &&
              resolve(handle, "lpcuda_engine_update_weights", &b.engine.update_weights, &why) &&
              resolve(handle, "lpcuda_engine_destroy", &b.engine.destroy, &why) &&
              resolve(handle, "lpcuda_engine_kv_bytes", &b.engine.kv_bytes, &why) &&
              resolve(handle, "lpcuda_engine_kv_alloc", &b.engine.kv_alloc, &why) &&
              resolve(handle, "lpcuda_engine_kv_free", &b.engine.kv_free, &why) &&
              resolve(handle, "lpcuda_engine_forward", &b.engine.forward, &why) &&
              resolve(handle, "lpcuda_engine_describe", &b.engine.describe, &why);
    b.engine.last_error = b.last_error;
    if (ok && abi() != LPCUDA_ABI_VERSION) {
        why = "CUDA backend ABI " + std::to_string(abi()) + " != expected " + std::to_string(LPCUDA_ABI_VERSION) +
              " (liblinchpin.so and liblinchpin_cuda.so come from different builds)";
        ok = false;
    }
    if (!ok) {
        dlclose(handle);
        return load_failed(LP_ERR_BACKEND_BROKEN, lib + ": " + why);
    }
    const int init_status = init();
    if (init_status != LP_OK) {
        why = std::string(init_status == LP_ERR_UNAVAILABLE ? "" : "CUDA backend loaded but unusable: ") + b.last_error();
        dlclose(handle);
        return load_failed(init_status == LP_ERR_UNAVAILABLE ? LP_ERR_UNAVAILABLE : LP_ERR_BACKEND_BROKEN, why);
    }
    g_backend = b;
    g_loaded = true;
    return LP_OK;
}

const CudaBackend *loaded_backend() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_loaded ? &g_backend : nullptr;
}

int not_loaded() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return lp::fail(g_failure.empty() ? LP_ERR_UNAVAILABLE : g_failure_status,
                    "the CUDA backend is not loaded (call lp_cuda_load first)%s%s",
                    g_failure.empty() ? "" : "; last attempt: ", g_failure.c_str());
}

// Passes a backend status through, copying the backend's message into our own error slot.
int forward(int status, const CudaBackend *b) {
    return status == LP_OK ? LP_OK : lp::fail(status, "%s", b->last_error());
}

// The loaded backend with the device lp_cuda_load selected made current on this thread (the CUDA
// runtime's current device is per thread); else the status, with the error set.
int enter(const CudaBackend **out) {
    const CudaBackend *b = loaded_backend();
    if (b == nullptr) return not_loaded();
    *out = b;
    return forward(b->use_device(), b);
}

}  // namespace

namespace lp {

const CudaEngineApi *cuda_engine_api() {
    const CudaBackend *b = loaded_backend();
    return b == nullptr ? nullptr : &b->engine;
}

std::string cuda_unavailability() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_failure.empty() ? std::string("lp_cuda_load was not called") : g_failure;
}

int cuda_unavailability_status() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_failure.empty() ? LP_ERR_UNAVAILABLE : g_failure_status;
}

}  // namespace lp

extern "C" {

LP_API int lp_cuda_load(const char *path) {
    lp::clear_error();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_loaded) return LP_OK;
    return load_locked(path);
}

LP_API int lp_cuda_is_loaded(void) { return loaded_backend() != nullptr ? 1 : 0; }

LP_API int lp_cuda_device_count(void) {
    const CudaBackend *b = loaded_backend();
    return b == nullptr ? 0 : b->device_count();
}

LP_API int64_t lp_cuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype,
                                                       int64_t chunk_bytes) {
    const CudaBackend *b = loaded_backend();
    if (b == nullptr || N < 0 || D < 1 || V < 1 || chunk_bytes < 0) return -1;
    return b->ce_workspace_size(N, D, V, dtype, chunk_bytes);
}

LP_API int lp_cuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                                    int64_t N, int64_t D, int64_t V, double denom,
                                    float *loss_out, float *dh, float *dW, float *logp_out, float *entropy_out,
                                    void *workspace, int64_t workspace_bytes, int64_t chunk_bytes, void *stream) {
    return lp_cuda_masked_linear_ce_ex(h, W, dtype, y, w, N, D, V, denom, loss_out, dh, dW, LP_DW_ACCUMULATE_F32,
                                       logp_out, entropy_out, workspace, workspace_bytes, chunk_bytes, stream);
}

LP_API int lp_cuda_masked_linear_ce_ex(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                                       int64_t N, int64_t D, int64_t V, double denom,
                                       float *loss_out, float *dh, void *dW, int dw_mode, float *logp_out,
                                       float *entropy_out, void *workspace, int64_t workspace_bytes,
                                       int64_t chunk_bytes, void *stream) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (N < 0 || D < 1 || V < 1) return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad sizes N=%lld D=%lld V=%lld",
                                                 (long long)N, (long long)D, (long long)V);
    if (dtype != LP_F32 && dtype != LP_BF16 && dtype != LP_F16)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "unknown dtype code %d", dtype);
    if (dw_mode != LP_DW_ACCUMULATE_F32 && dw_mode != LP_DW_STORE)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "unknown dW mode %d (LP_DW_ACCUMULATE_F32 or LP_DW_STORE)", dw_mode);
    if (!std::isfinite(denom) || denom == 0.0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "denominator must be finite and nonzero, got %g", denom);
    if ((N > 0 && (h == nullptr || y == nullptr || w == nullptr)) || W == nullptr || loss_out == nullptr)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "null input pointer");
    const int64_t row_bytes = lp_masked_linear_ce_row_bytes(D, V, dtype);
    if (chunk_bytes < 0 || (chunk_bytes > 0 && chunk_bytes < row_bytes))
        return lp::fail(LP_ERR_INVALID_ARGUMENT,
                        "chunk budget of %lld bytes is below the %lld bytes one row needs (D=%lld, V=%lld)",
                        (long long)chunk_bytes, (long long)row_bytes, (long long)D, (long long)V);
    int status = b->masked_linear_ce(h, W, dtype, y, w, N, D, V, denom, loss_out, dh, dW, dw_mode, logp_out,
                                     entropy_out, workspace, workspace_bytes, chunk_bytes, stream);
    if (status != LP_OK) return lp::fail(status, "%s", b->last_error());
    return LP_OK;
}

// Device memory and device facts: argument checks here, then the backend's status and message.
LP_API int lp_cuda_malloc(size_t bytes, void **out) {
    lp::clear_error();
    if (out == nullptr) return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_malloc: null output pointer");
    *out = nullptr;
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (bytes == 0) return LP_OK;
    return forward(b->malloc(bytes, out), b);
}

LP_API int lp_cuda_free(void *ptr) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (ptr == nullptr) return LP_OK;
    return forward(b->free(ptr), b);
}

LP_API int lp_cuda_memcpy_h2d(void *dst_device, const void *src_host, size_t bytes) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (bytes == 0) return LP_OK;
    if (dst_device == nullptr || src_host == nullptr)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_memcpy_h2d: null pointer for %zu bytes", bytes);
    return forward(b->memcpy_h2d(dst_device, src_host, bytes), b);
}

LP_API int lp_cuda_memcpy_d2h(void *dst_host, const void *src_device, size_t bytes) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (bytes == 0) return LP_OK;
    if (dst_host == nullptr || src_device == nullptr)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_memcpy_d2h: null pointer for %zu bytes", bytes);
    return forward(b->memcpy_d2h(dst_host, src_device, bytes), b);
}

LP_API int lp_cuda_memset(void *ptr, int byte_value, size_t bytes) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (bytes == 0) return LP_OK;
    if (ptr == nullptr) return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_memset: null pointer for %zu bytes", bytes);
    return forward(b->memset(ptr, byte_value, bytes), b);
}

LP_API int lp_cuda_synchronize(void) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    return forward(b->synchronize(), b);
}

LP_API int lp_cuda_device_name(char *buf, size_t len) {
    lp::clear_error();
    if (buf == nullptr || len == 0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_device_name: null or empty buffer");
    buf[0] = '\0';
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    return forward(b->device_name(buf, len), b);
}

LP_API int lp_cuda_mem_get_info(size_t *free_bytes, size_t *total_bytes) {
    lp::clear_error();
    if (free_bytes == nullptr || total_bytes == nullptr)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_mem_get_info: null output pointer");
    *free_bytes = *total_bytes = 0;
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    return forward(b->mem_get_info(free_bytes, total_bytes), b);
}

// Engine kernels: host-side argument checks here (sizes, dtype, null pointers), then the backend.
LP_API int64_t lp_cuda_staircase_attention_workspace_size(int64_t T, int64_t n_queries, int64_t H, int64_t Hkv,
                                                          int64_t d, int dtype) {
    const CudaBackend *b = loaded_backend();
    if (b == nullptr || T < 0 || n_queries < 0 || H < 1 || Hkv < 1 || d < 1) return -1;
    return b->staircase_workspace_size(T, n_queries, H, Hkv, d, dtype);
}

LP_API int lp_cuda_staircase_attention(const void *q, const void *k_shared, const void *v_shared, int64_t T,
                                       const void *k_suffix, const void *v_suffix, const int64_t *branch_points,
                                       const int64_t *suffix_offsets, int64_t n_branches, int64_t S,
                                       const int64_t *query_rows, int64_t n_queries, int64_t H, int64_t Hkv, int64_t d,
                                       float scale, int dtype, float *out, void *workspace, int64_t workspace_bytes,
                                       void *stream) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (H < 1 || Hkv < 1 || d < 1 || H % Hkv != 0)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "bad head shape H=%lld Hkv=%lld d=%lld (H must be a multiple of Hkv)",
                        (long long)H, (long long)Hkv, (long long)d);
    if (T < 0 || n_branches < 0 || S < n_branches)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "need T >= 0, n_branches >= 0 and S >= n_branches (T=%lld n=%lld S=%lld)",
                        (long long)T, (long long)n_branches, (long long)S);
    if (n_queries < 0 || (query_rows == nullptr && n_queries != S))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "n_queries=%lld: must be >= 0, and == S=%lld without query_rows",
                        (long long)n_queries, (long long)S);
    if (dtype != LP_F32 && dtype != LP_BF16 && dtype != LP_F16)
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "unknown dtype code %d", dtype);
    if (!std::isfinite(scale)) return lp::fail(LP_ERR_INVALID_ARGUMENT, "scale is not finite");
    if (n_branches == 0 || n_queries == 0) return LP_OK;
    if (!q || !k_suffix || !v_suffix || !branch_points || !suffix_offsets || !out || (T > 0 && (!k_shared || !v_shared)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "null pointer among the arguments");
    return forward(b->staircase_attention(q, k_shared, v_shared, T, k_suffix, v_suffix, branch_points, suffix_offsets,
                                          n_branches, S, query_rows, n_queries, H, Hkv, d, scale, dtype, out, workspace,
                                          workspace_bytes, stream),
                   b);
}

LP_API int lp_cuda_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids,
                        float *probs, void *stream) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V || n < 1 || n > V_valid)
        return lp::fail(LP_ERR_INVALID_ARGUMENT,
                        "lp_cuda_topk: need B >= 0, 1 <= V_valid <= V and 1 <= n <= V_valid (B=%lld V=%lld "
                        "V_valid=%lld n=%lld)",
                        (long long)B, (long long)V, (long long)V_valid, (long long)n);
    if (B == 0) return LP_OK;
    if (!logits || !ids || !probs) return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_topk: null pointer");
    return forward(b->topk(logits, B, V, V_valid, n, ids, probs, stream), b);
}

LP_API int lp_cuda_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature,
                          double top_p, uint64_t seed, const int64_t *request_ids, const int64_t *steps,
                          int64_t *tokens, double *logprob, double *entropy, void *stream) {
    lp::clear_error();
    const CudaBackend *b = nullptr;
    if (int st = enter(&b); st != LP_OK) return st;
    if (B < 0 || V < 1 || V_valid < 1 || V_valid > V)
        return lp::fail(LP_ERR_INVALID_ARGUMENT,
                        "lp_cuda_sample: need B >= 0 and 1 <= V_valid <= V (B=%lld V=%lld V_valid=%lld)", (long long)B,
                        (long long)V, (long long)V_valid);
    if (std::isnan(temperature) || std::isnan(top_p))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_sample: temperature and top_p must not be NaN");
    if (B == 0) return LP_OK;
    if (!logits || !tokens || (temperature > 0 && (!request_ids || !steps)))
        return lp::fail(LP_ERR_INVALID_ARGUMENT, "lp_cuda_sample: null pointer");
    return forward(
        b->sample(logits, B, V, V_valid, temperature, top_p, seed, request_ids, steps, tokens, logprob, entropy, stream),
        b);
}

}  // extern "C"
