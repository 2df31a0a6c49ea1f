/*
 * Linchpin C ABI: the only surface Java binds (through JavaCPP) and the only surface the native
 * tests use. Plain functions, raw pointers + sizes + dtype + stream, integer status codes.
 *
 * Contract for every entry point:
 *  - Arguments are validated in Java first (dev.linchpin.kernels); the checks here are a second line
 *    of defence and return LP_ERR_INVALID_ARGUMENT with a message instead of crashing.
 *  - On failure the function returns a nonzero lp_status and lp_last_error() returns a message
 *    (thread-local, valid until the next Linchpin call on that thread).
 *  - Nothing here allocates memory the caller must free.
 *
 * liblinchpin.so (always built) implements the CPU twins and a dispatcher for the CUDA backend.
 * liblinchpin_cuda.so (built where nvcc exists) is never linked: lp_cuda_load() dlopens it on
 * demand, so machines without CUDA never need CUDA libraries.
 */
#ifndef LINCHPIN_H
#define LINCHPIN_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LP_ABI_VERSION 4

#if defined(__GNUC__)
#define LP_API __attribute__((visibility("default")))
#else
#define LP_API
#endif

typedef enum lp_status {
    LP_OK = 0,
    LP_ERR_INVALID_ARGUMENT = 1,
    LP_ERR_OUT_OF_MEMORY = 2,
    LP_ERR_CUDA = 3,
    LP_ERR_UNAVAILABLE = 4,     /* no such backend here: not built, no driver, no (capable) device */
    LP_ERR_INTERNAL = 5,
    LP_ERR_BACKEND_BROKEN = 6   /* a GPU is here but the backend failed: a library that exists and does
                                   not load, a missing symbol, an ABI mismatch, a CUDA error probing it */
} lp_status;

typedef enum lp_dtype {
    LP_F32 = 0,
    LP_BF16 = 1,
    LP_F16 = 2
} lp_dtype;

/* Message describing the last failure on this thread ("" if none). */
LP_API const char *lp_last_error(void);

/* ABI version of this library; Java refuses to run against a mismatching build. */
LP_API int lp_abi_version(void);

/* ---------------------------------------------------------------------------------------------
 * Fused masked linear cross-entropy.
 *
 *   z_i      = W h_i                        (logits, never materialised for all rows at once)
 *   lse_i    = log Σ_v exp(z_iv)
 *   logp_i   = z_i[y_i] − lse_i
 *   loss     = Σ_{i : w_i ≠ 0} w_i · (−logp_i) / denom
 *   dh_i     = (w_i / denom) · (softmax(z_i) − onehot(y_i)) W            (0 for rows with w_i = 0)
 *   dW      += Σ_i (w_i / denom) · (softmax(z_i) − onehot(y_i))ᵀ h_i
 *   entropy_i = lse_i − Σ_v softmax(z_i)_v z_iv
 *
 * Rows with w_i == 0 are dropped before any GEMM and are *selected out*, never multiplied by 0:
 * NaN/Inf in their h, or an out-of-range target, cannot reach any output. For such rows dh is 0,
 * and logp/entropy are written as 0.
 *
 * Both devices run the same plan: the selected rows are processed in chunks of R rows, R bounded by
 * a memory budget (chunk_bytes); per chunk one GEMM for the logits [R, V], one pass per row that
 * turns them in place into G = (w/denom)(softmax - onehot), then dh = G W and dW += G^T h as two more
 * GEMMs (OpenBLAS on the CPU, cuBLAS on CUDA). Without dh and dW (forward only) the last two are
 * skipped. The loss is summed per row in row order: deterministic for given inputs.
 * --------------------------------------------------------------------------------------------- */

/* Default chunk budget of the CPU twin (chunk_bytes = 0): 32 MiB of logits, about 260 rows at V = 32000. */
#define LP_CPU_CE_DEFAULT_CHUNK_BYTES ((int64_t)32 << 20)

/* Default chunk budget of the CUDA kernel (chunk_bytes = 0): 1 GiB, about 1390 rows at V = 128256 in bf16. */
#define LP_CUDA_CE_DEFAULT_CHUNK_BYTES ((int64_t)1 << 30)

/*
 * Bytes of chunk memory one selected row needs, the unit of chunk_bytes: its logits row (V fp32,
 * turned into the gradient in place), for 16-bit inputs the gradient row again in that dtype (the
 * backward GEMMs read it), its gathered h row (D in the input dtype) and its dh row (D fp32).
 * dtype: LP_F32 (the CPU twin is always LP_F32), LP_BF16 or LP_F16. -1 for bad sizes or dtype.
 * A budget below this is refused (LP_ERR_INVALID_ARGUMENT).
 */
static inline int64_t lp_masked_linear_ce_row_bytes(int64_t D, int64_t V, int dtype) {
    int64_t esz = dtype == 0 ? 4 : (dtype == 1 || dtype == 2) ? 2 : 0;
    if (esz == 0 || D < 1 || V < 1 || D > ((int64_t)1 << 40) || V > ((int64_t)1 << 40)) return -1;
    return V * 4 + (esz == 4 ? 0 : V * esz) + D * esz + D * 4;
}

/*
 * CPU twin, fp32, row-major contiguous.
 *   h [N, D], W [V, D], y [N] (int64, in [0, V) wherever w != 0), w [N].
 *   loss_out   [1]     required.
 *   dh         [N, D]  overwritten; NULL to skip the input gradient.
 *   dW         [V, D]  accumulated (+=); NULL to skip the weight gradient.
 *   logp_out   [N]     NULL to skip.
 *   entropy_out[N]     NULL to skip.
 *   num_threads: threads for the row pass and for OpenBLAS, whose thread count is set for the call
 *              and restored before returning (a process-wide setting: another thread calling
 *              OpenBLAS meanwhile shares it). 0 means "use the hardware concurrency".
 *   chunk_bytes: memory budget of one chunk (see lp_masked_linear_ce_row_bytes), 0 = the default.
 */
LP_API int lp_cpu_masked_linear_ce(const float *h, const float *W, const int64_t *y, const float *w,
                            int64_t N, int64_t D, int64_t V, double denom,
                            float *loss_out, float *dh, float *dW,
                            float *logp_out, float *entropy_out, int num_threads, int64_t chunk_bytes);

/* The thread count of the process's OpenBLAS (the one libtorch's CPU build and these kernels share),
 * and a way to set it (n >= 1) without the OPENBLAS_NUM_THREADS environment variable. */
LP_API int lp_blas_num_threads(void);
LP_API int lp_blas_set_num_threads(int n);

/* ---------------------------------------------------------------------------------------------
 * CUDA backend (dispatched through liblinchpin.so to the lazily loaded liblinchpin_cuda.so).
 * --------------------------------------------------------------------------------------------- */

/* dlopen the CUDA backend at `path` (NULL: look next to liblinchpin.so). Idempotent.
 * Returns LP_OK if the library loaded and a usable device exists, and makes the most capable device
 * the one every CUDA entry point below runs on (set as the calling thread's current device on each
 * call). Otherwise lp_last_error() says why, with one of two statuses:
 *   LP_ERR_UNAVAILABLE     no CUDA here: the library is not there (built without nvcc), no driver,
 *                          no device, or none with compute capability >= 8.0;
 *   LP_ERR_BACKEND_BROKEN  CUDA should work but the backend failed: the library exists and dlopen
 *                          fails, a symbol is missing, the ABI differs (a stale build), or probing
 *                          the devices fails with another CUDA error.
 * Tests skip on the first and fail on the second. */
LP_API int lp_cuda_load(const char *path);

/* 1 if lp_cuda_load succeeded, else 0. */
LP_API int lp_cuda_is_loaded(void);

/* Number of visible CUDA devices (0 if the backend is not loaded). */
LP_API int lp_cuda_device_count(void);

/* Bytes of device workspace lp_cuda_masked_linear_ce needs for these sizes and chunk budget
 * (0 = LP_CUDA_CE_DEFAULT_CHUNK_BYTES): row compaction (about 16 bytes per row of N) plus one chunk
 * of min(N, chunk_bytes / lp_masked_linear_ce_row_bytes) rows. -1 for bad arguments, among them a
 * budget below one row. */
LP_API int64_t lp_cuda_masked_linear_ce_workspace_size(int64_t N, int64_t D, int64_t V, int dtype,
                                                       int64_t chunk_bytes);

/*
 * CUDA fused masked linear cross-entropy. All pointers are device pointers on the selected device.
 *   h [N, D] and W [V, D] in `dtype` (LP_F32 / LP_BF16 / LP_F16), fp32 accumulation.
 *   y [N] int64, w [N] fp32.
 *   loss_out [1] fp32 (overwritten), dh [N, D] fp32 (overwritten, may be NULL),
 *   dW [V, D] fp32 (accumulated, may be NULL), logp_out/entropy_out [N] fp32 (may be NULL).
 *   workspace: at least lp_cuda_masked_linear_ce_workspace_size(N, D, V, dtype, chunk_bytes) bytes,
 *   256-byte aligned; chunk_bytes as given to that query.
 *   stream: a cudaStream_t (NULL = legacy default stream); all work is enqueued on it.
 * The three GEMMs per chunk run in cuBLAS (fp32 accumulation; for 16-bit inputs the gradient is
 * rounded to the input dtype, scaled by a power of two so fp16 cannot underflow), loaded at run time
 * ($LINCHPIN_CUBLAS_LIB, else libcublas.so.13, then .12): without it the call fails with
 * LP_ERR_UNAVAILABLE naming what was tried. The selected rows are compacted on the device; the
 * call then waits once for their count (the GEMM sizes), so it returns after the compaction but
 * before the GEMMs finish.
 */
LP_API int lp_cuda_masked_linear_ce(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                             int64_t N, int64_t D, int64_t V, double denom,
                             float *loss_out, float *dh, float *dW,
                             float *logp_out, float *entropy_out,
                             void *workspace, int64_t workspace_bytes, int64_t chunk_bytes, void *stream);

/* How lp_cuda_masked_linear_ce_ex writes the weight gradient. */
typedef enum lp_dw_mode {
    LP_DW_ACCUMULATE_F32 = 0, /* dW [V, D] fp32, accumulated (+=): lp_cuda_masked_linear_ce's contract */
    LP_DW_STORE = 1           /* dW [V, D] in `dtype`, overwritten: what autograd writes into the fresh
                                 .grad of weights in that dtype. No fp32 read-modify-write of V·D values:
                                 at V = 128256, D = 4096 that is 4 GB of traffic per call saved. With more
                                 than one chunk the chunks' partial sums are added in `dtype` (one rounding
                                 per chunk); fp16 gradients can underflow as PyTorch's fp16 .grad does. */
} lp_dw_mode;

/* lp_cuda_masked_linear_ce with the weight gradient written as dw_mode says (dW may be NULL, as there). */
LP_API int lp_cuda_masked_linear_ce_ex(const void *h, const void *W, int dtype, const int64_t *y, const float *w,
                                       int64_t N, int64_t D, int64_t V, double denom,
                                       float *loss_out, float *dh, void *dW, int dw_mode,
                                       float *logp_out, float *entropy_out,
                                       void *workspace, int64_t workspace_bytes, int64_t chunk_bytes, void *stream);

/* ---------------------------------------------------------------------------------------------
 * Device memory and device facts, so that Java (without libtorch) and the native harnesses can drive
 * the CUDA kernels. All act on the device lp_cuda_load selected (the most capable one). Each
 * returns LP_ERR_UNAVAILABLE when the backend is not loaded, LP_ERR_INVALID_ARGUMENT for a null
 * pointer where one is needed, LP_ERR_OUT_OF_MEMORY when cudaMalloc runs out, else LP_ERR_CUDA with
 * the CUDA error's name in lp_last_error().
 * --------------------------------------------------------------------------------------------- */

/* cudaMalloc. bytes == 0 gives *out = NULL and LP_OK. On failure *out is set to NULL. */
LP_API int lp_cuda_malloc(size_t bytes, void **out);

/* cudaFree. NULL is a no-op. */
LP_API int lp_cuda_free(void *ptr);

/* Synchronous copies (cudaMemcpy) between pageable host memory and device memory. */
LP_API int lp_cuda_memcpy_h2d(void *dst_device, const void *src_host, size_t bytes);
LP_API int lp_cuda_memcpy_d2h(void *dst_host, const void *src_device, size_t bytes);

/* cudaMemset on the legacy default stream (ordered with kernels launched on stream NULL). */
LP_API int lp_cuda_memset(void *ptr, int byte_value, size_t bytes);

/* cudaDeviceSynchronize: waits for all work and reports any asynchronous error of earlier kernels. */
LP_API int lp_cuda_synchronize(void);

/* The current device's name and compute capability, as "NVIDIA H100 80GB HBM3 (sm_90)", written
 * NUL-terminated into buf (truncated to len - 1 characters). */
LP_API int lp_cuda_device_name(char *buf, size_t len);

/* cudaMemGetInfo of the current device. */
LP_API int lp_cuda_mem_get_info(size_t *free_bytes, size_t *total_bytes);

/* ---------------------------------------------------------------------------------------------
 * Staircase attention (CPU twin), the attention of branch rollouts (ARCHITECTURE.md decision 6).
 *
 * One trajectory's shared keys/values K_s, V_s [T, Hkv, d] and n branches. Branch i has a branch
 * point b_i in [0, T] and a suffix of s_i = off[i+1] - off[i] >= 1 rows with their own keys and
 * values. Suffix row j of branch i (global row r = off[i] + j) attends to
 *     shared positions [0, b_i)   plus   its branch's suffix rows off[i] .. off[i] + j (causal),
 * with softmax(scale · q·k) over exactly that set, grouped-query style (query head h reads KV head
 * h / (H / Hkv)). The shared part is computed in one pass over K_s/V_s for all branches (each KV tile
 * is read once and serves every branch whose b_i reaches it), the suffix part per branch, and the two
 * partial softmaxes are merged by log-sum-exp.
 *
 * Query rows: only the suffix rows listed in query_rows are computed (a decode step asks for the last
 * suffix row of each branch, so its cost is one query row per branch, not s_i), each still attending
 * to its whole key set. query_rows = NULL means every suffix row, in order (n_queries = S).
 *   q        [n_queries, H, d]   the queries of the listed rows, in list order
 *   k_shared, v_shared [T, Hkv, d]  (may be NULL when T == 0)
 *   k_suffix, v_suffix [S, Hkv, d]  S = off[n], rows grouped by branch
 *   branch_points [n], suffix_offsets [n + 1] (off[0] = 0, strictly increasing)
 *   query_rows [n_queries]: suffix rows in [0, S), any order, or NULL
 *   out      [n_queries, H, d]   overwritten
 * --------------------------------------------------------------------------------------------- */
LP_API int lp_cpu_staircase_attention(const float *q, const float *k_shared, const float *v_shared, int64_t T,
                                      const float *k_suffix, const float *v_suffix,
                                      const int64_t *branch_points, const int64_t *suffix_offsets, int64_t n_branches,
                                      const int64_t *query_rows, int64_t n_queries,
                                      int64_t H, int64_t Hkv, int64_t d, float scale, float *out, int num_threads);

/* ---------------------------------------------------------------------------------------------
 * Token choice over rows of logits (the engine's top-n alternatives and next-token sampling), CPU
 * twins of lp_cuda_topk / lp_cuda_sample. Same rules as the CPU engine (token_choice.cpp), row by
 * row; all arithmetic in double from fp32 logits.
 *
 * V_valid (1 <= V_valid <= V): only ids [0, V_valid) exist for token choice. A checkpoint may pad its
 *   embedding beyond its tokenizer (Qwen3: 151936 rows, 151669 token ids); the padded ids are never
 *   chosen and are left out of every softmax, so probabilities, log-probabilities and entropies are
 *   those of the vocabulary [0, V_valid). Rows keep their stride V.
 * lp_cpu_topk: logits [B, V]; for each row the n most probable tokens, most probable first, ties to
 *   the lowest id, into ids [B, n], and their softmax probabilities (temperature 1) into probs [B, n].
 *   1 <= n <= V_valid.
 * lp_cpu_sample: logits [B, V]; row r draws u = counter_uniform(seed, request_ids[r], steps[r])
 *   (splitmix64 chained over the three; the engine uses step = tokens generated so far) and picks
 *   tokens[r]: arg-max (ties to the lowest id) when temperature <= 0, else from
 *   softmax(logits / temperature) cut to the most probable tokens (ties to the lowest id) holding
 *   top_p of the mass (top_p >= 1: no cut), at the token where u * kept mass falls in that order.
 *   logprob [B] (log softmax at temperature 1 of the chosen token) and entropy [B] (of softmax at
 *   temperature 1) may be NULL. request_ids and steps may be NULL when temperature <= 0.
 * --------------------------------------------------------------------------------------------- */
LP_API int lp_cpu_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids,
                       float *probs);

LP_API int lp_cpu_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature, double top_p,
                         uint64_t seed,
                         const int64_t *request_ids, const int64_t *steps, int64_t *tokens, double *logprob,
                         double *entropy);

/* ---------------------------------------------------------------------------------------------
 * CUDA twins of the engine kernels. Device pointers on the current device, work enqueued
 * on `stream` (a cudaStream_t, NULL = legacy default stream), no host synchronisation, no
 * allocation. The index arrays live on the device too, so the host cannot read them: the sizes the
 * grid depends on (S = suffix_offsets[n]) are passed by the caller, and index arrays are NOT
 * validated on the device (validate on the host first, as the Java facade does); out-of-range
 * branch points are clamped to [0, T] and never read out of bounds, but give unspecified results.
 * --------------------------------------------------------------------------------------------- */

/* Bytes of device workspace lp_cuda_staircase_attention needs for n_queries query rows (a pure
 * function of the sizes). */
LP_API int64_t lp_cuda_staircase_attention_workspace_size(int64_t T, int64_t n_queries, int64_t H, int64_t Hkv, int64_t d,
                                                          int dtype);

/*
 * lp_cpu_staircase_attention on the device. Same layout and semantics, plus:
 *   q, k_shared, v_shared, k_suffix, v_suffix in `dtype` (LP_F32 / LP_BF16 / LP_F16), fp32 arithmetic;
 *   S = suffix_offsets[n_branches] (host value, >= n_branches); query_rows [n_queries] on the device
 *   or NULL (then n_queries == S); out [n_queries, H, d] fp32, overwritten;
 *   1 <= d <= 256; workspace >= lp_cuda_staircase_attention_workspace_size(T, n_queries, ...) bytes,
 *   16-byte aligned. Query rows outside [0, S) are clamped (never read out of bounds; unspecified result).
 */
LP_API int lp_cuda_staircase_attention(const void *q, const void *k_shared, const void *v_shared, int64_t T,
                                       const void *k_suffix, const void *v_suffix, const int64_t *branch_points,
                                       const int64_t *suffix_offsets, int64_t n_branches, int64_t S,
                                       const int64_t *query_rows, int64_t n_queries, int64_t H, int64_t Hkv, int64_t d,
                                       float scale, int dtype, float *out, void *workspace, int64_t workspace_bytes,
                                       void *stream);

/* lp_cpu_topk on the device (logits fp32 [B, V]; ids int64 and probs fp32 [B, n]); 1 <= n <= 1024. */
LP_API int lp_cuda_topk(const float *logits, int64_t B, int64_t V, int64_t V_valid, int64_t n, int64_t *ids,
                        float *probs, void *stream);

/* lp_cpu_sample on the device; request_ids, steps [B] int64 on the device; logprob/entropy may be NULL. */
LP_API int lp_cuda_sample(const float *logits, int64_t B, int64_t V, int64_t V_valid, double temperature, double top_p,
                          uint64_t seed,
                          const int64_t *request_ids, const int64_t *steps, int64_t *tokens, double *logprob,
                          double *entropy, void *stream);

/* ---------------------------------------------------------------------------------------------
 * Rollout engine. An engine holds one model's weights (fp32 host copies on the CPU
 * backend), prefilled trajectories with their KV caches, and runs branch rollouts with staircase
 * attention and continuous batching. An engine is not thread-safe: one caller at a time.
 *
 * Numerics follow dev.linchpin.model.CausalLM (Llama, Qwen2, Qwen3, OLMo-2): RMSNorm, RoPE with the
 * caller-supplied inverse-frequency table (so Llama-3 scaling is computed once, in Java), QK-norm,
 * SwiGLU, tied or untied LM head.
 * --------------------------------------------------------------------------------------------- */
typedef struct lp_engine lp_engine;

/* Families. Java maps each ModelFamily to its code by name (engine.EngineCodes); NativeConstantsTest checks
 * that every integer constant of this header has the same value in Java (nativ.LinchpinNative, NativeStatus). */
#define LP_FAMILY_LLAMA 0
#define LP_FAMILY_QWEN2 1
#define LP_FAMILY_QWEN3 2
#define LP_FAMILY_OLMO2 3

/* Flags for lp_engine_create. */
#define LP_ENGINE_TIED_EMBEDDINGS 1  /* lm_head is model.embed_tokens.weight */
#define LP_ENGINE_QKV_BIAS 2         /* q/k/v projections have biases */
#define LP_ENGINE_O_BIAS 4           /* o_proj has a bias */
#define LP_ENGINE_MLP_BIAS 8         /* gate/up/down have biases (Llama mlp_bias) */
#define LP_ENGINE_DEVICE_CUDA 16     /* run on the CUDA backend (liblinchpin_cuda.so, loaded by lp_cuda_load);
                                        fp32 device weights and KV unless LP_ENGINE_CUDA_BF16 */
#define LP_ENGINE_CUDA_BF16 32       /* with LP_ENGINE_DEVICE_CUDA: bf16 device weights and KV, fp32
                                        accumulation and activations */

/*
 * Creates an engine with no weights. inv_freq [head_dim / 2] is RoPE's inverse-frequency table.
 * kv_budget_bytes bounds the KV memory of trajectories and branch slots together; a request that
 * does not fit fails with LP_ERR_OUT_OF_MEMORY and a message starting "KV budget".
 * num_threads <= 0: hardware concurrency.
 */
LP_API int lp_engine_create(int family, int64_t vocab, int64_t hidden, int64_t intermediate, int64_t layers,
                            int64_t heads, int64_t kv_heads, int64_t head_dim, double rms_eps, int flags,
                            const float *inv_freq, int64_t kv_budget_bytes, int num_threads, lp_engine **out);

/* Frees the engine and everything it holds. NULL is a no-op. */
LP_API void lp_engine_destroy(lp_engine *engine);

/* Copies one fp32 weight, named as in Hugging Face checkpoints; the name must be one the family
 * expects and the shape must match. After lp_engine_finalize a weight may be replaced (to follow a
 * training model) only while the engine holds no trajectory and no rollout run; call
 * lp_engine_finalize again afterwards (prefill and rollouts refuse until then). */
LP_API int lp_engine_set_weight(lp_engine *engine, const char *name, const float *data, const int64_t *shape,
                                int64_t ndim);

/* Checks that every expected weight was set and creates the backend; required before prefill.
 * Again after replacing weights: the backend refreshes its copies (a device upload on CUDA).
 * With LP_ENGINE_DEVICE_CUDA, fails with LP_ERR_UNAVAILABLE unless lp_cuda_load succeeded. */
LP_API int lp_engine_finalize(lp_engine *engine);

/* What a finalized engine runs on (device, dtype, GEMM path: cuBLAS and its library, or the own
 * kernel and why), NUL-terminated into buf (truncated to len - 1 characters). */
LP_API int lp_engine_describe(const lp_engine *engine, char *buf, size_t len);

/* Restricts the engine's token choice to ids [0, n_valid) (1 <= n_valid <= vocab; the default is vocab):
 * prefill's top-n, greedy and sampled rollout tokens, and their probabilities, log-probabilities and
 * entropies are those of softmax over [0, n_valid), as if the vocabulary ended there (see V_valid of
 * lp_cpu_topk: checkpoints pad the embedding beyond the tokenizer). Refused while a rollout run is open. */
LP_API int lp_engine_set_valid_tokens(lp_engine *engine, int64_t n_valid);

/* KV bytes one position takes (all layers, keys and values, in the backend's dtype), and the bytes held now. */
LP_API int64_t lp_engine_kv_bytes_per_position(const lp_engine *engine);
LP_API int64_t lp_engine_kv_bytes_in_use(const lp_engine *engine);

/*
 * Prefills n trajectories (tokens concatenated, lengths[i] >= 1) and keeps their KV caches.
 *   out_ids [n]: trajectory handles for rollouts and lp_engine_release.
 *   0 <= top_n <= n_valid (lp_engine_set_valid_tokens): for every position t of every trajectory (rows
 *   in concatenation order), the top_n most probable next tokens (the distribution of token t+1 given tokens 0..t), most probable
 *   first, ties to the lowest id, into topk_ids / topk_probs [N, top_n] (N = Σ lengths).
 *   logits_out [N, V]: NULL, or receives every position's logits (for parity tests).
 */
LP_API int lp_engine_prefill(lp_engine *engine, const int64_t *tokens, const int64_t *lengths, int64_t n,
                             int64_t top_n, int64_t *out_ids, int64_t *topk_ids, float *topk_probs,
                             float *logits_out);

/* Drops a trajectory's KV cache (its handle becomes invalid). */
LP_API int lp_engine_release(lp_engine *engine, int64_t trajectory_id);

/*
 * Starts a rollout run over n branches. Branch i continues trajectory traj_ids[i] from the prefix
 * (tokens [0, branch_points[i]) of that trajectory, forced_tokens[i]) and generates up to max_new
 * tokens: greedy (arg-max, ties to the lowest id) when temperature <= 0, else sampled from
 * softmax(logits / temperature) cut to top_p, with a uniform drawn from a counter-based RNG keyed by
 * (seed, request_ids[i], step), so a branch's output does not depend on batching or order.
 * A branch stops after a token in eos_ids, after max_new tokens, or when its generated tokens end
 * with one of the stop sequences (stop_tokens concatenated, stop_offsets [n_stop + 1]).
 * At most max_batch branches decode at once (fewer if the KV budget allows fewer); a finished
 * branch frees its slot at once and the next queued branch takes it (continuous batching).
 * One run at a time per engine; the run holds its inputs by copy.
 */
LP_API int lp_engine_rollout_begin(lp_engine *engine, const int64_t *traj_ids, const int64_t *branch_points,
                                   const int64_t *forced_tokens, const int64_t *request_ids, int64_t n,
                                   int64_t max_new, const int64_t *eos_ids, int64_t n_eos,
                                   const int64_t *stop_tokens, const int64_t *stop_offsets, int64_t n_stop,
                                   double temperature, double top_p, uint64_t seed, int64_t max_batch);

/*
 * Decodes until at least one branch finishes (or none is left). Writes the indices (into the
 * begin arrays) of branches finished by this call into finished [capacity >= n of begin], their
 * count into *n_finished, and 1 into *done when every branch has finished.
 */
LP_API int lp_engine_rollout_step(lp_engine *engine, int64_t *finished, int64_t *n_finished, int *done);

/*
 * The output of finished branch i: generated tokens (not the forced one) into tokens [capacity],
 * their count into *length, Σ log p(token) and the mean entropy of the model's next-token
 * distributions (both at temperature 1, over the generated steps; 0 when none).
 */
LP_API int lp_engine_rollout_result(lp_engine *engine, int64_t i, int64_t *tokens, int64_t capacity,
                                    int64_t *length, double *sum_logprob, double *mean_entropy);

/* Ends the run and frees its slots (also discards unfinished branches). */
LP_API int lp_engine_rollout_end(lp_engine *engine);

#ifdef __cplusplus
}
#endif

#endif /* LINCHPIN_H */
