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
#define LPCUDA_ABI_VERSION 3

int lpcuda_abi_version(void);
const char *lpcuda_last_error(void);

/* Probe the driver and devices. LP_OK if at least one device is usable. */
int lpcuda_init(void);
int lpcuda_device_count(void);

int64_t lpcuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype);

int lpcuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                            int64_t N, int64_t D, int64_t V, double denom,
                            float *loss_out, float *dh, float *dW,
                            float *logp_out, float *entropy_out,
                            void *workspace, int64_t workspace_bytes, void *stream);

/* Device memory and device facts; semantics of the lp_cuda_* functions of the same names. */
int lpcuda_malloc(size_t bytes, void **out);
int lpcuda_free(void *ptr);
int lpcuda_memcpy_h2d(void *dst_device, const void *src_host, size_t bytes);
int lpcuda_memcpy_d2h(void *dst_host, const void *src_device, size_t bytes);
int lpcuda_memset(void *ptr, int byte_value, size_t bytes);
int lpcuda_synchronize(void);
int lpcuda_device_name(char *buf, size_t len);
int lpcuda_mem_get_info(size_t *free_bytes, size_t *total_bytes);

/* Engine kernels (issue 6); semantics of the lp_cuda_* functions of the same names. */
int64_t lpcuda_staircase_attention_workspace_size(int64_t T, int64_t S, int64_t H, int64_t Hkv, int64_t d, int dtype);
int lpcuda_staircase_attention(const void *q, const void *k_shared, const void *v_shared, int64_t T,
                               const void *k_suffix, const void *v_suffix, const int64_t *branch_points,
                               const int64_t *suffix_offsets, int64_t n_branches, int64_t S, int64_t H, int64_t Hkv,
                               int64_t d, float scale, int dtype, float *out, void *workspace,
                               int64_t workspace_bytes, void *stream);
int lpcuda_topk(const float *logits, int64_t B, int64_t V, int64_t n, int64_t *ids, float *probs, void *stream);
int lpcuda_sample(const float *logits, int64_t B, int64_t V, double temperature, double top_p, uint64_t seed,
                  const int64_t *request_ids, const int64_t *steps, int64_t *tokens, double *logprob,
                  double *entropy, void *stream);

/* Function-pointer table the dispatcher fills with dlsym. */
typedef int (*lpcuda_abi_version_fn)(void);
typedef const char *(*lpcuda_last_error_fn)(void);
typedef int (*lpcuda_init_fn)(void);
typedef int (*lpcuda_device_count_fn)(void);
typedef int64_t (*lpcuda_masked_linear_ce_workspace_size_fn)(int64_t, int64_t, int64_t, int);
typedef int (*lpcuda_masked_linear_ce_fn)(const void *, const void *, int, const int64_t *, const float *,
                                          int64_t, int64_t, int64_t, double,
                                          float *, float *, float *, float *, float *,
                                          void *, int64_t, void *);
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
                                             int64_t, int64_t, int64_t, float, int, float *, void *, int64_t, void *);
typedef int (*lpcuda_topk_fn)(const float *, int64_t, int64_t, int64_t, int64_t *, float *, void *);
typedef int (*lpcuda_sample_fn)(const float *, int64_t, int64_t, double, double, uint64_t, const int64_t *,
                                const int64_t *, int64_t *, double *, double *, void *);

#ifdef __cplusplus
}
#endif

#endif /* LINCHPIN_CUDA_BACKEND_H */
