package dev.linchpin.engine;

import dev.linchpin.model.ModelConfig;
import dev.linchpin.model.ParameterShapes;
import dev.linchpin.model.safetensors.MappedCheckpoint;
import dev.linchpin.nativ.CudaBackend;
import dev.linchpin.nativ.LinchpinNative;
import dev.linchpin.nativ.NativeLibrary;
import dev.linchpin.nativ.NativeStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * The native rollout engine (CPU or CUDA backend, {@link EngineDevice}): a model's weights, prefilled
 * trajectories with their KV caches, branch rollouts with staircase attention and continuous
 * batching. Numerically the same model as {@code dev.linchpin.model.CausalLM} (all four families).
 *
 * <p>This class and {@link #fromHuggingFace} never touch libtorch: weights come memory-mapped from
 * safetensors through the project's own reader, so mining and evaluation run where libtorch is absent.
 * An engine that follows a training model ({@code fromModel}, {@code updateWeights}) is built by
 * {@link CausalLMEngines}, the one libtorch-dependent class of this package besides its helper.
 *
 * <p>On a CUDA device ({@link EngineDevice#CUDA}, {@link EngineDevice#CUDA_BF16}) weights and KV
 * caches live in device memory and forward passes run there; the logits come back to the host, where
 * token choice (top-n alternatives, greedy, sampling) still runs. The engine also keeps fp32 host
 * copies of the weights (what {@link #updateWeights} refreshes before re-uploading them).
 *
 * <p>Every argument is checked here before the native call (token ids in the vocabulary, branch
 * points within their trajectory, trajectories of this engine and not released, the KV budget).
 * Methods are synchronized: one native call at a time per engine. Close it to free native memory.
 */
public final class RolloutEngine implements AutoCloseable {
    private final ModelConfig config;
    private final float[] invFreq;
    private final EngineDevice device;
    private final long kvBudgetBytes;
    private final long kvBytesPerPosition;
    private final Map<Long, Trajectory> live = new HashMap<>();
    private long validTokens;
    private Pointer handle;

    private RolloutEngine(ModelConfig config, float[] invFreq, EngineDevice device, Pointer handle, long kvBudgetBytes) {
        this.config = config;
        this.invFreq = invFreq;
        this.device = device;
        this.handle = handle;
        this.kvBudgetBytes = kvBudgetBytes;
        this.kvBytesPerPosition = LinchpinNative.lp_engine_kv_bytes_per_position(handle);
        this.validTokens = config.vocabSize();
    }

    /** Copies a model's weights into a native engine (lp_engine_set_weight for each, then lp_engine_finalize). */
    @FunctionalInterface
    interface WeightSource {
        void copyInto(Pointer engine) throws IOException;
    }

    /**
     * Creates a native engine for {@code c} on {@code device} and fills it from {@code weights}; the
     * native engine is destroyed again when filling fails. Callers have validated the weights.
     */
    static RolloutEngine create(ModelConfig c, long kvBudgetBytes, int threads, EngineDevice device, WeightSource weights)
            throws IOException {
        if (device == null) throw new IllegalArgumentException("device is null");
        if (kvBudgetBytes < 0) throw new IllegalArgumentException("KV budget must be >= 0, got " + kvBudgetBytes);
        NativeLibrary.ensureLoaded();
        if (device.isCuda()) CudaBackend.ensureAvailable();
        float[] invFreq = c.rope().inverseFrequencies(c.headDim());
        int flags = EngineCodes.flags(c, device);
        Pointer engine;
        try (PointerScope scope = new PointerScope()) {
            PointerPointer<Pointer> out = new PointerPointer<>(1);
            NativeStatus.check(LinchpinNative.lp_engine_create(EngineCodes.family(c.family()), c.vocabSize(), c.hiddenSize(),
                    c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(), flags,
                    new FloatPointer(invFreq), kvBudgetBytes, threads, out), "lp_engine_create");
            engine = out.get(0);
            engine.deallocate(false);   // not owned by JavaCPP: freed by lp_engine_destroy
        }
        try {
            weights.copyInto(engine);
        } catch (IOException | RuntimeException | Error ex) {
            LinchpinNative.lp_engine_destroy(engine);
            throw ex;
        }
        return new RolloutEngine(c, invFreq, device, engine, kvBudgetBytes);
    }

    /**
     * Replaces the weights in place (an engine following a training model). Refused while trajectories
     * are live: their KV caches were computed with the old weights and would silently mix two models
     * into every later rollout.
     */
    synchronized void replaceWeights(WeightSource weights) throws IOException {
        Pointer engine = open();
        if (!live.isEmpty()) {
            throw new IllegalStateException("updateWeights: " + live.size() + " trajectories are live and their KV was"
                    + " computed with the old weights; release them first, then prefill again");
        }
        weights.copyInto(engine);
    }

    /** The RoPE inverse-frequency table the engine was built with. */
    float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /**
     * What the engine runs on, in words: device, dtype, and on CUDA the GEMM path (cuBLAS and which
     * library, or the own kernel and why) — for logs and benchmark records.
     */
    public synchronized String describe() {
        try (org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer(512)) {
            check(LinchpinNative.lp_engine_describe(open(), buf, 512), "lp_engine_describe");
            return buf.limit(org.bytedeco.javacpp.BytePointer.strlen(buf)).getString();   // limit = capacity would read past the NUL
        }
    }

    /** Where this engine runs. */
    public EngineDevice device() {
        return device;
    }

    /**
     * An engine on the CPU for a Hugging Face model directory: config.json is parsed and the safetensors
     * (one file or sharded) are checked and memory-mapped in Java, then copied to the engine as fp32.
     */
    public static RolloutEngine fromHuggingFace(Path hfDir, long kvBudgetBytes, int threads) throws IOException {
        return fromHuggingFace(hfDir, kvBudgetBytes, threads, EngineDevice.CPU);
    }

    /**
     * An engine on {@code device} for a Hugging Face model directory, without libtorch. The CUDA backend
     * is checked first, so an unavailable one fails before the checkpoint is read. Every tensor name,
     * shape and dtype is checked against config.json before the engine is created, and every value is
     * checked finite as it is copied (fp32, bf16, fp16 and fp64 checkpoints; fp32 data is handed to the
     * engine straight from the mapping, the others are converted chunk by chunk). Each mapping is released
     * as soon as its tensor is copied, so loading holds at most one tensor of the file resident.
     *
     * @throws IOException naming the directory and tensor for a malformed, mismatched or non-finite checkpoint
     */
    public static RolloutEngine fromHuggingFace(Path hfDir, long kvBudgetBytes, int threads, EngineDevice device) throws IOException {
        if (device == null) throw new IllegalArgumentException("device is null");
        if (kvBudgetBytes < 0) throw new IllegalArgumentException("KV budget must be >= 0, got " + kvBudgetBytes);
        NativeLibrary.ensureLoaded();
        if (device.isCuda()) CudaBackend.ensureAvailable();
        ModelConfig config = ModelConfig.fromJson(hfDir.resolve("config.json"));
        try (MappedCheckpoint checkpoint = MappedCheckpoint.open(hfDir)) {
            Map<String, long[]> shapes = ParameterShapes.checkCheckpoint(hfDir, config, checkpoint.entries());
            return create(config, kvBudgetBytes, threads, device, engine -> CheckpointWeights.copy(engine, checkpoint, shapes));
        }
    }

    /**
     * Restricts every token the engine chooses to ids [0, validTokens): top-n alternatives in
     * {@link #prefill}, greedy and sampled rollout tokens, and the probabilities, log-probabilities and
     * entropies reported with them are those of the softmax over [0, validTokens), as if the vocabulary
     * ended there. Real checkpoints pad the embedding beyond the tokenizer (Qwen3: 151936 rows for 151669
     * token ids); the padded rows have logits like any other row and, unrestricted, a random or
     * fine-tuned model can generate them. Logits ({@link #logits}) still cover every row.
     *
     * @param validTokens in [1, vocab_size]; normally the tokenizer's size (vocab_size when larger)
     */
    public synchronized void restrictVocabulary(long validTokens) {
        Pointer engine = open();
        if (validTokens < 1 || validTokens > config.vocabSize()) {
            throw new IllegalArgumentException("valid token count must be in [1, " + config.vocabSize() + "], got " + validTokens);
        }
        check(LinchpinNative.lp_engine_set_valid_tokens(engine, validTokens), "lp_engine_set_valid_tokens");
        this.validTokens = validTokens;
    }

    /** One past the largest token id the engine may choose ({@link #restrictVocabulary}; vocab_size by default). */
    public synchronized long validTokens() {
        return validTokens;
    }

    /** The model configuration. */
    public ModelConfig config() {
        return config;
    }

    /** KV bytes one cached position takes (all layers, keys and values). */
    public long kvBytesPerPosition() {
        return kvBytesPerPosition;
    }

    /** KV bytes held now by trajectories (and by an open rollout's slots). */
    public synchronized long kvBytesInUse() {
        return LinchpinNative.lp_engine_kv_bytes_in_use(open());
    }

    /**
     * Prefills trajectories once, keeps their KV caches, and returns each position's {@code topN}
     * most probable next tokens with probabilities.
     *
     * @throws KvBudgetExceededException when their KV does not fit in what is left of the budget
     */
    public synchronized PrefillResult prefill(List<long[]> trajectories, int topN) {
        return prefill(trajectories, topN, null);
    }

    /**
     * Every position's logits [length × vocab] of {@code tokens} (prefilled and released at once):
     * what {@code CausalLM.logits} returns for the same sequence.
     */
    public synchronized float[] logits(long[] tokens) {
        float[][] out = new float[1][];
        PrefillResult r = prefill(List.<long[]>of(tokens), 0, out);
        release(r.trajectories().get(0));
        return out[0];
    }

    private PrefillResult prefill(List<long[]> trajectories, int topN, float[][] logitsOut) {
        Pointer engine = open();
        if (trajectories == null || trajectories.isEmpty()) throw new IllegalArgumentException("no trajectories");
        if (topN < 0 || topN > validTokens) {
            throw new IllegalArgumentException("topN must be in [0, " + validTokens + "] (the valid tokens), got " + topN);
        }
        int n = trajectories.size();
        long total = 0;
        long[] lengths = new long[n];
        for (int i = 0; i < n; i++) {
            long[] t = trajectories.get(i);
            if (t == null || t.length == 0) throw new IllegalArgumentException("trajectory " + i + " is empty");
            checkTokens(t, "trajectory " + i);
            lengths[i] = t.length;
            total += t.length;
        }
        checkBudget(total * kvBytesPerPosition, "prefill of " + total + " positions");
        if (total * Math.max(topN, 1) > Integer.MAX_VALUE || (logitsOut != null && total * config.vocabSize() > Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("prefill too large for one call: " + total + " positions");
        }
        long[] flat = new long[(int) total];
        int at = 0;
        for (long[] t : trajectories) {
            System.arraycopy(t, 0, flat, at, t.length);
            at += t.length;
        }
        try (PointerScope scope = new PointerScope()) {
            LongPointer ids = new LongPointer(n);
            LongPointer topIds = topN > 0 ? new LongPointer(total * topN) : null;
            FloatPointer topProbs = topN > 0 ? new FloatPointer(total * topN) : null;
            FloatPointer logits = logitsOut != null ? new FloatPointer(total * config.vocabSize()) : null;
            check(LinchpinNative.lp_engine_prefill(engine, new LongPointer(flat), new LongPointer(lengths), n, topN, ids,
                    topIds, topProbs, logits), "prefill");
            List<Trajectory> made = new ArrayList<>();
            List<long[]> idRows = new ArrayList<>();
            List<float[]> probRows = new ArrayList<>();
            long offset = 0;
            for (int i = 0; i < n; i++) {
                Trajectory t = new Trajectory(ids.get(i), (int) lengths[i]);
                live.put(t.id(), t);
                made.add(t);
                long[] tid = new long[(int) (lengths[i] * topN)];
                float[] tp = new float[tid.length];
                if (topN > 0) {
                    topIds.position(offset * topN).get(tid);
                    topProbs.position(offset * topN).get(tp);
                }
                idRows.add(tid);
                probRows.add(tp);
                offset += lengths[i];
            }
            if (logitsOut != null) {
                logitsOut[0] = new float[(int) (total * config.vocabSize())];
                logits.get(logitsOut[0]);
            }
            return new PrefillResult(List.copyOf(made), topN, idRows, probRows);
        }
    }

    /** Frees a trajectory's KV cache; the handle may not be used afterwards. */
    public synchronized void release(Trajectory trajectory) {
        Pointer engine = open();
        checkLive(trajectory, "release");
        check(LinchpinNative.lp_engine_release(engine, trajectory.id()), "release");
        live.remove(trajectory.id());
    }

    /** Runs every branch to its end and returns the outputs in branch order. */
    public synchronized List<RolloutOutput> rollout(List<Branch> branches, RolloutOptions options) {
        RolloutOutput[] out = new RolloutOutput[branches == null ? 0 : branches.size()];
        rollout(branches, options, o -> out[o.index()] = o);
        return Arrays.asList(out);
    }

    /**
     * Runs every branch and hands each output to {@code onFinished} as soon as its branch ends (on
     * this thread, in finishing order). An exception from the callback ends the run and propagates.
     */
    public synchronized void rollout(List<Branch> branches, RolloutOptions options, Consumer<RolloutOutput> onFinished) {
        Pointer engine = open();
        if (branches == null || branches.isEmpty()) throw new IllegalArgumentException("no branches");
        if (options == null || onFinished == null) throw new IllegalArgumentException("options and callback are required");
        int n = branches.size();
        long[] traj = new long[n], point = new long[n], forced = new long[n], request = new long[n];
        for (int i = 0; i < n; i++) {
            Branch b = branches.get(i);
            if (b == null) throw new IllegalArgumentException("branch " + i + " is null");
            checkLive(b.trajectory(), "branch " + i);
            if (b.point() < 0 || b.point() > b.trajectory().length()) {
                throw new IllegalArgumentException("branch " + i + ": point " + b.point() + " outside [0, "
                        + b.trajectory().length() + "]");
            }
            checkTokens(new long[] {b.forcedToken()}, "branch " + i + " forced token");
            traj[i] = b.trajectory().id();
            point[i] = b.point();
            forced[i] = b.forcedToken();
            request[i] = b.requestId();
        }
        checkBudget((long) options.maxNew() * kvBytesPerPosition, "one branch slot (maxNew " + options.maxNew() + ")");
        List<long[]> stops = options.stopSequences();
        long[] stopOffsets = new long[stops.size() + 1];
        for (int s = 0; s < stops.size(); s++) stopOffsets[s + 1] = stopOffsets[s] + stops.get(s).length;
        long[] stopTokens = new long[(int) stopOffsets[stops.size()]];
        for (int s = 0; s < stops.size(); s++) System.arraycopy(stops.get(s), 0, stopTokens, (int) stopOffsets[s], stops.get(s).length);
        try (PointerScope scope = new PointerScope()) {
            long[] eos = options.eosIds();
            check(LinchpinNative.lp_engine_rollout_begin(engine, new LongPointer(traj), new LongPointer(point),
                    new LongPointer(forced), new LongPointer(request), n, options.maxNew(),
                    eos.length > 0 ? new LongPointer(eos) : null, eos.length,
                    stopTokens.length > 0 ? new LongPointer(stopTokens) : null, new LongPointer(stopOffsets), stops.size(),
                    options.temperature(), options.topP(), options.seed(), options.maxBatch()), "rollout");
            try {
                LongPointer finished = new LongPointer(n), count = new LongPointer(1), length = new LongPointer(1);
                LongPointer tokens = new LongPointer(options.maxNew());
                IntPointer done = new IntPointer(1);
                DoublePointer sumLogProb = new DoublePointer(1), meanEntropy = new DoublePointer(1);
                do {
                    check(LinchpinNative.lp_engine_rollout_step(engine, finished, count, done), "rollout step");
                    for (long f = 0; f < count.get(); f++) {
                        int index = (int) finished.get(f);
                        check(LinchpinNative.lp_engine_rollout_result(engine, index, tokens, options.maxNew(), length,
                                sumLogProb, meanEntropy), "rollout result");
                        long[] generated = new long[(int) length.get()];
                        tokens.get(generated);
                        onFinished.accept(new RolloutOutput(index, generated, sumLogProb.get(), meanEntropy.get()));
                    }
                } while (done.get() == 0);
            } finally {
                LinchpinNative.lp_engine_rollout_end(engine);
            }
        }
    }

    /**
     * Plain batched generation: {@code samples} continuations of {@code prompt} sharing one prefill of
     * the prompt (sample i uses request id i). Greedy options give identical samples.
     */
    public synchronized List<RolloutOutput> generate(long[] prompt, int samples, RolloutOptions options) {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt is empty");
        if (samples < 1) throw new IllegalArgumentException("samples must be >= 1, got " + samples);
        Trajectory t = prefill(List.<long[]>of(prompt), 0).trajectories().get(0);
        try {
            // Each sample is a branch at the last prompt position, forced to the last prompt token: it
            // reuses KV[0, P-1) and its first step yields the first new token.
            List<Branch> branches = new ArrayList<>();
            for (int i = 0; i < samples; i++) branches.add(new Branch(t, prompt.length - 1, prompt[prompt.length - 1], i));
            return rollout(branches, options);
        } finally {
            release(t);
        }
    }

    /** Frees the engine's native memory; idempotent. */
    @Override
    public synchronized void close() {
        if (handle != null) {
            LinchpinNative.lp_engine_destroy(handle);
            handle = null;
            live.clear();
        }
    }

    private Pointer open() {
        if (handle == null) throw new IllegalStateException("rollout engine is closed");
        return handle;
    }

    private void checkLive(Trajectory t, String what) {
        if (t == null || live.get(t.id()) != t) {
            throw new IllegalArgumentException(what + ": trajectory " + t + " is not a live trajectory of this engine");
        }
    }

    private void checkTokens(long[] tokens, String what) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException(what + ": token " + tokens[i] + " at index " + i + " outside [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    private void checkBudget(long need, String what) {
        long inUse = LinchpinNative.lp_engine_kv_bytes_in_use(handle);
        if (inUse + need > kvBudgetBytes) {
            throw new KvBudgetExceededException("KV budget exceeded: " + what + " needs " + need + " bytes, " + inUse
                    + " of the " + kvBudgetBytes + "-byte budget are in use");
        }
    }

    private static void check(int status, String operation) {
        if (status == NativeStatus.OUT_OF_MEMORY) {
            String message = LinchpinNative.lp_last_error().getString();
            if (message.startsWith("KV budget")) throw new KvBudgetExceededException(operation + ": " + message);
        }
        NativeStatus.check(status, operation);
    }
}
