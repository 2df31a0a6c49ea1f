package dev.linchpin.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Raw JavaCPP binding of the C ABI in {@code cpp/include/linchpin.h}. JavaCPP generates the JNI glue
 * at build time (process-classes) and links it against {@code liblinchpin.so}.
 *
 * <p>Do not call these methods directly: go through {@link NativeLibrary#api()} (which loads the
 * libraries and checks the ABI) and the validating facades in {@code dev.linchpin.kernels}. Nothing
 * here checks its arguments; a wrong pointer or size is undefined behaviour.
 */
@Platform(include = "linchpin.h", link = "linchpin")
public final class LinchpinNative {
    LinchpinNative() {}

    // The integer constants of linchpin.h, named as there: Java uses these names, never the numbers.
    // NativeConstantsTest reads the header and fails when a value differs or a constant is missing on
    // either side. The lp_status codes are in NativeStatus, the one place that translates them.

    /** LP_ABI_VERSION: the header these bindings were written against. */
    public static final int LP_ABI_VERSION = 4;

    /** lp_dtype: element types of the CUDA kernels' 16/32-bit inputs. */
    public static final int LP_F32 = 0, LP_BF16 = 1, LP_F16 = 2;

    /**
     * lp_dw_mode of the C ABI's lp_cuda_masked_linear_ce_ex: dW fp32 accumulated, or stored in the input
     * dtype. Java calls lp_cuda_masked_linear_ce, whose dW is always LP_DW_ACCUMULATE_F32.
     */
    public static final int LP_DW_ACCUMULATE_F32 = 0, LP_DW_STORE = 1;

    /** Model families of lp_engine_create; dev.linchpin.engine maps each ModelFamily to one by name. */
    public static final int LP_FAMILY_LLAMA = 0, LP_FAMILY_QWEN2 = 1, LP_FAMILY_QWEN3 = 2, LP_FAMILY_OLMO2 = 3;

    /** Flag bits of lp_engine_create. */
    public static final int LP_ENGINE_TIED_EMBEDDINGS = 1, LP_ENGINE_QKV_BIAS = 2, LP_ENGINE_O_BIAS = 4,
            LP_ENGINE_MLP_BIAS = 8, LP_ENGINE_DEVICE_CUDA = 16, LP_ENGINE_CUDA_BF16 = 32;

    public static native int lp_abi_version();

    public static native @Cast("const char*") BytePointer lp_last_error();

    public static native int lp_cpu_masked_linear_ce(
            @Cast("const float*") FloatPointer h, @Cast("const float*") FloatPointer W,
            @Cast("const int64_t*") LongPointer y, @Cast("const float*") FloatPointer w,
            long N, long D, long V, double denom,
            FloatPointer lossOut, FloatPointer dh, FloatPointer dW,
            FloatPointer logpOut, FloatPointer entropyOut, int numThreads, long chunkBytes);

    public static native int lp_blas_num_threads();

    public static native int lp_blas_set_num_threads(int n);

    /** Chunk memory one selected row needs (the unit of the chunk budget); -1 for bad sizes or dtype. */
    public static native @Cast("int64_t") long lp_masked_linear_ce_row_bytes(long D, long V, int dtype);

    public static native int lp_cuda_load(@Cast("const char*") BytePointer path);

    public static native int lp_cuda_device_count();

    public static native @Cast("int64_t") long lp_cuda_masked_linear_ce_workspace_size(long N, long D, long V, int dtype,
                                                                                       long chunkBytes);

    public static native int lp_cuda_masked_linear_ce(
            @Cast("const void*") Pointer h, @Cast("const void*") Pointer W, int dtype,
            @Cast("const int64_t*") Pointer y, @Cast("const float*") Pointer w,
            long N, long D, long V, double denom,
            @Cast("float*") Pointer lossOut, @Cast("float*") Pointer dh, @Cast("float*") Pointer dW,
            @Cast("float*") Pointer logpOut, @Cast("float*") Pointer entropyOut,
            @Cast("void*") Pointer workspace, long workspaceBytes, long chunkBytes, @Cast("void*") Pointer stream);

    // Device memory and device facts (see linchpin.h). Java code uses DeviceBuffer / CudaDevice.

    public static native int lp_cuda_malloc(@Cast("size_t") long bytes, @Cast("void**") PointerPointer<?> out);

    public static native int lp_cuda_free(@Cast("void*") Pointer ptr);

    public static native int lp_cuda_memcpy_h2d(@Cast("void*") Pointer dstDevice, @Cast("const void*") Pointer srcHost,
                                                @Cast("size_t") long bytes);

    public static native int lp_cuda_memcpy_d2h(@Cast("void*") Pointer dstHost, @Cast("const void*") Pointer srcDevice,
                                                @Cast("size_t") long bytes);

    public static native int lp_cuda_memset(@Cast("void*") Pointer ptr, int byteValue, @Cast("size_t") long bytes);

    public static native int lp_cuda_synchronize();

    public static native int lp_cuda_device_name(@Cast("char*") BytePointer buf, @Cast("size_t") long len);

    public static native int lp_cuda_mem_get_info(@Cast("size_t*") SizeTPointer freeBytes,
                                                  @Cast("size_t*") SizeTPointer totalBytes);

    // The rollout engine (see linchpin.h). Java code uses dev.linchpin.engine.RolloutEngine.

    public static native int lp_engine_create(int family, long vocab, long hidden, long intermediate, long layers,
            long heads, long kvHeads, long headDim, double rmsEps, int flags,
            @Cast("const float*") FloatPointer invFreq, long kvBudgetBytes, int numThreads,
            @Cast("lp_engine**") PointerPointer<?> out);

    public static native void lp_engine_destroy(@Cast("lp_engine*") Pointer engine);

    public static native int lp_engine_set_weight(@Cast("lp_engine*") Pointer engine, @Cast("const char*") BytePointer name,
            @Cast("const float*") FloatPointer data, @Cast("const int64_t*") LongPointer shape, long ndim);

    public static native int lp_engine_finalize(@Cast("lp_engine*") Pointer engine);

    public static native int lp_engine_describe(@Cast("const lp_engine*") Pointer engine, @Cast("char*") BytePointer buf,
            @Cast("size_t") long len);

    public static native int lp_engine_set_valid_tokens(@Cast("lp_engine*") Pointer engine, long nValid);

    public static native @Cast("int64_t") long lp_engine_kv_bytes_per_position(@Cast("const lp_engine*") Pointer engine);

    public static native @Cast("int64_t") long lp_engine_kv_bytes_in_use(@Cast("const lp_engine*") Pointer engine);

    public static native int lp_engine_prefill(@Cast("lp_engine*") Pointer engine, @Cast("const int64_t*") LongPointer tokens,
            @Cast("const int64_t*") LongPointer lengths, long n, long topN, @Cast("int64_t*") LongPointer outIds,
            @Cast("int64_t*") LongPointer topkIds, FloatPointer topkProbs, FloatPointer logitsOut);

    public static native int lp_engine_release(@Cast("lp_engine*") Pointer engine, long trajectoryId);

    public static native int lp_engine_rollout_begin(@Cast("lp_engine*") Pointer engine,
            @Cast("const int64_t*") LongPointer trajIds, @Cast("const int64_t*") LongPointer branchPoints,
            @Cast("const int64_t*") LongPointer forcedTokens, @Cast("const int64_t*") LongPointer requestIds, long n,
            long maxNew, @Cast("const int64_t*") LongPointer eosIds, long nEos,
            @Cast("const int64_t*") LongPointer stopTokens, @Cast("const int64_t*") LongPointer stopOffsets, long nStop,
            double temperature, double topP, @Cast("uint64_t") long seed, long maxBatch);

    public static native int lp_engine_rollout_step(@Cast("lp_engine*") Pointer engine, @Cast("int64_t*") LongPointer finished,
            @Cast("int64_t*") LongPointer nFinished, IntPointer done);

    public static native int lp_engine_rollout_result(@Cast("lp_engine*") Pointer engine, long i,
            @Cast("int64_t*") LongPointer tokens, long capacity, @Cast("int64_t*") LongPointer length,
            DoublePointer sumLogprob, DoublePointer meanEntropy);

    public static native int lp_engine_rollout_end(@Cast("lp_engine*") Pointer engine);
}
