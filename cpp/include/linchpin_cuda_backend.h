/*
 * Internal contract between liblinchpin.so (the dispatcher, cpp/src/core/cuda_dispatch.cpp) and the
 * lazily dlopen'ed liblinchpin_cuda.so (kernels/). Not part of the public ABI: Java never sees it.
 *
 * Every lpcuda_* function returns an lp_status; on failure lpcuda_last_error() (thread-local) says why.
 * Arguments have already been validated by the dispatcher and by Java; the backend still checks
 * every CUDA status it receives.
 */
#ifndef LINCHPIN_CUDA_BACKEND_H
#define LINCHPIN_CUDA_BACKEND_H

#include "linchpin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: device memory and device facts (lpcuda_malloc ... lpcuda_mem_get_info).
 * 3: staircase attention, top-k and sampling (lpcuda_staircase_attention*, lpcuda_topk, lpcuda_sample). */
/* 4: the rollout engine's CUDA backend (lpcuda_engine_*). */
/* 5: the masked linear-CE takes a chunk budget (cuBLAS GEMMs on bounded chunks). */
/* 6: lpcuda_init selects the device, lpcuda_use_device; staircase attention takes query rows;
 *    lpcuda_topk / lpcuda_sample take V_valid (padded vocabulary rows are never chosen). */
/* 7: the masked linear-CE takes a dW mode (lp_dw_mode); dW is void *. */
#define LPCUDA_ABI_VERSION 7

int lpcuda_abi_version(void);
const char *lpcuda_last_error(void);

/* Probe the driver and devices and select the most capable device. LP_OK if it is usable;
 * LP_ERR_UNAVAILABLE when there is no CUDA here (no driver, no device, none with compute capability
 * >= 8.0); LP_ERR_BACKEND_BROKEN when the driver or the device fails. */
int lpcuda_init(void);
/* Makes the selected device the calling thread's current device (the runtime's current device is per
 * thread): the dispatcher calls it before every other lpcuda_* call it makes. */
int lpcuda_use_device(void);
int lpcuda_device_count(void);

int64_t lpcuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype, int64_t chunk_bytes);

int lpcuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                            int64_t N, int64_t D, int64_t V, double denom,
                            float *loss_out, float *dh, void *dW, int dw_mode,
                            float *logp_out, float *entropy_out,
                            void *workspace, int64_t workspace_bytes, int64_t chunk_bytes, void *stream);

/* Device memory and device facts; semantics of the lp_cuda_* functions of the same names. */
int lpcuda_malloc(size_t bytes, void **out);
int lpcuda_free(void *ptr);
int lpcuda_memcpy_h2d(void *dst_device, const void *src_host, size_t bytes);
int lpcuda_memcpy_d2h(void *dst_host, const void *src_device, size_t bytes);
int lpcuda_memset(void *ptr, int byte_value, size_t bytes);
int lpcuda_synchronize(void);
int lpcuda_device_name(char *buf, size_t len);
int lpcuda_mem_get_info(size_t *free_bytes, size_t *total_bytes);

/* Engine kernels; semantics of the lp_cuda_* functions of the same names. */
int64_t lpcuda_staircase_attention_workspace_size(int64_t T, int64_t n_queries, int64_t H, int64_t Hkv, int64_t d,
                                                  int dtype);
int lpcuda_staircase_attention(const void *q, const void *k_shared, const void *v_shared, int64_t T,
                               const void *k_suffix, const void *v_suffix, const int64_t *branch_points,
                               const int64_t *suffix_offsets, int64_t n_branches, int64_t S,
                               const int64_t *query_rows, int64_t n_queries, int64_t H, int64_t Hkv, int64_t d,
                               float scale, int dtype, float *out, void *workspace, int64_t workspace_bytes,
                               void *stream);
int lpcuda_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids, float *probs,
                void *stream);
int lpcuda_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature, double top_p,
                  uint64_t seed,
                  const int64_t *request_ids, const int64_t *steps, int64_t *tokens, double *logprob,
                  double *entropy, void *stream);

/* ---------------------------------------------------------------------------------------------
 * The rollout engine's CUDA backend (kernels/engine_*.cu). The host engine
 * (cpp/src/engine) keeps trajectories, scheduling and token choice; this backend holds the weights
 * and the KV stores in device memory and runs forward passes, returning fp32 logits to the host.
 * Numerics: activations and accumulation in fp32; weights and KV in fp32 or bf16 (dtype).
 * GEMMs through cuBLAS loaded at run time (LINCHPIN_CUBLAS_LIB, libcublas.so.13, .12), else an own
 * tiled kernel. Handles are opaque; one caller at a time per engine.
 * --------------------------------------------------------------------------------------------- */
typedef struct lpcuda_engine lpcuda_engine;
typedef struct lpcuda_kv lpcuda_kv;

/* The model's shape; family codes and flags as lp_engine_create (LP_FAMILY_*, LP_ENGINE_* bits). */
typedef struct lpcuda_engine_spec {
    int family;
    int flags;       /* LP_ENGINE_TIED_EMBEDDINGS | LP_ENGINE_QKV_BIAS | LP_ENGINE_O_BIAS | LP_ENGINE_MLP_BIAS */
    int dtype;       /* LP_F32 or LP_BF16: device weights and KV */
    int64_t vocab, hidden, intermediate, layers, heads, kv_heads, head_dim;
    double rms_eps;
    const float *inv_freq; /* [head_dim / 2], host */
} lpcuda_engine_spec;

/* Host fp32 weights of one decoder layer, row-major as in Hugging Face checkpoints; NULL where the
 * family has no such tensor (same fields and order as lp::engine::LayerWeights). */
typedef struct lpcuda_layer_weights {
    const float *input_norm, *post_attn_norm, *post_ff_norm;
    const float *wq, *wk, *wv, *wo, *bq, *bk, *bv, *bo, *q_norm, *k_norm;
    const float *gate, *up, *down, *b_gate, *b_up, *b_down;
} lpcuda_layer_weights;

typedef struct lpcuda_model_weights {
    const float *embed, *final_norm, *lm_head; /* lm_head == embed when tied */
    const lpcuda_layer_weights *layers;        /* [spec.layers] */
} lpcuda_model_weights;

/* One token of a forward pass (the engine's Row, backend.h): it attends to positions [0, prefix) of
 * `shared` and [0, n_suffix) of `suffix`; its key/value are written to dest[dest_index] first.
 * n_suffix == 0 needs prefix >= 1. */
typedef struct lpcuda_row {
    int64_t token, position;
    lpcuda_kv *dest;
    int64_t dest_index;
    const lpcuda_kv *shared;
    int64_t prefix;
    const lpcuda_kv *suffix;
    int64_t n_suffix;
} lpcuda_row;

int lpcuda_engine_create(const lpcuda_engine_spec *spec, const lpcuda_model_weights *weights, lpcuda_engine **out);
/* Uploads new values of every weight (same shapes); the KV stores are kept (the caller ensures none is live). */
int lpcuda_engine_update_weights(lpcuda_engine *engine, const lpcuda_model_weights *weights);
void lpcuda_engine_destroy(lpcuda_engine *engine);
/* Device bytes of a KV store of `capacity` positions (what the engine's budget counts). */
int64_t lpcuda_engine_kv_bytes(const lpcuda_engine *engine, int64_t capacity);
int lpcuda_engine_kv_alloc(lpcuda_engine *engine, int64_t capacity, lpcuda_kv **out);
void lpcuda_engine_kv_free(lpcuda_engine *engine, lpcuda_kv *kv);
/* Runs n rows (their keys and values go to their dest stores); logits [n, vocab] fp32 to host memory,
 * or NULL to skip the final norm and the LM head (synchronous either way). */
int lpcuda_engine_forward(lpcuda_engine *engine, const lpcuda_row *rows, int64_t n, float *logits);
/* What the engine runs on, NUL-terminated into buf: device, dtype and GEMM path (cuBLAS and which
 * library, or the own tiled kernel and why). */
void lpcuda_engine_describe(const lpcuda_engine *engine, char *buf, size_t len);

/* Function-pointer table the dispatcher fills with dlsym. */
typedef int (*lpcuda_abi_version_fn)(void);
typedef const char *(*lpcuda_last_error_fn)(void);
typedef int (*lpcuda_init_fn)(void);
typedef int (*lpcuda_use_device_fn)(void);
typedef int (*lpcuda_device_count_fn)(void);
typedef int64_t (*lpcuda_masked_linear_ce_workspace_size_fn)(int64_t, int64_t, int64_t, int, int64_t);
typedef int (*lpcuda_masked_linear_ce_fn)(const void *, const void *, int, const int64_t *, const float *,
                                          int64_t, int64_t, int64_t, double,
                                          float *, float *, void *, int, float *, float *,
                                          void *, int64_t, int64_t, void *);
typedef int (*lpcuda_malloc_fn)(size_t, void **);
typedef int (*lpcuda_free_fn)(void *);
typedef int (*lpcuda_memcpy_h2d_fn)(void *, const void *, size_t);
typedef int (*lpcuda_memcpy_d2h_fn)(void *, const void *, size_t);
typedef int (*lpcuda_memset_fn)(void *, int, size_t);
typedef int (*lpcuda_synchronize_fn)(void);
typedef int (*lpcuda_device_name_fn)(char *, size_t);
typedef int (*lpcuda_mem_get_info_fn)(size_t *, size_t *);
typedef int64_t (*lpcuda_staircase_attention_workspace_size_fn)(int64_t, int64_t, int64_t, int64_t, int64_t, int);
typedef int (*lpcuda_staircase_attention_fn)(const void *, const void *, const void *, int64_t, const void *,
                                             const void *, const int64_t *, const int64_t *, int64_t, int64_t,
                                             const int64_t *, int64_t, int64_t, int64_t, int64_t, float, int, float *,
                                             void *, int64_t, void *);
typedef int (*lpcuda_topk_fn)(const float *, int64_t, int64_t, int64_t, int64_t, int64_t *, float *, void *);
typedef int (*lpcuda_sample_fn)(const float *, int64_t, int64_t, int64_t, double, double, uint64_t, const int64_t *,
                                const int64_t *, int64_t *, double *, double *, void *);

typedef int (*lpcuda_engine_create_fn)(const lpcuda_engine_spec *, const lpcuda_model_weights *, lpcuda_engine **);
typedef int (*lpcuda_engine_update_weights_fn)(lpcuda_engine *, const lpcuda_model_weights *);
typedef void (*lpcuda_engine_destroy_fn)(lpcuda_engine *);
typedef int64_t (*lpcuda_engine_kv_bytes_fn)(const lpcuda_engine *, int64_t);
typedef int (*lpcuda_engine_kv_alloc_fn)(lpcuda_engine *, int64_t, lpcuda_kv **);
typedef void (*lpcuda_engine_kv_free_fn)(lpcuda_engine *, lpcuda_kv *);
typedef int (*lpcuda_engine_forward_fn)(lpcuda_engine *, const lpcuda_row *, int64_t, float *);
typedef void (*lpcuda_engine_describe_fn)(const lpcuda_engine *, char *, size_t);

#ifdef __cplusplus
}
#endif

#endif /* LINCHPIN_CUDA_BACKEND_H */
