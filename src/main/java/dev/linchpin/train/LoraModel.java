package dev.linchpin.train;

import dev.linchpin.model.CausalLM;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * LoRA (Hu et al. 2021) on a frozen {@link CausalLM}: every weight {@code W [out, in]} whose Hugging
 * Face name ends with {@code <target>.weight} gets {@code A [r, in]} and {@code B [out, r]} and is used
 * as {@code W + (alpha/r)·B·A}. As in PEFT, A starts uniform in ±1/sqrt(in) and B at zero, so training
 * starts from the base model exactly.
 *
 * <p>Mechanism: no hook in the model. {@link #forwardModel()} builds a {@link CausalLM} over the
 * effective weights ({@link CausalLM#fromParameters} uses tensors as given), whose target weights are
 * the differentiable expression above and whose other weights are the frozen base tensors. Gradients
 * therefore reach only A and B, and the base model object is never modified. The cost per forward is
 * one [out, r]×[r, in] product per adapted matrix.
 *
 * <p>Trainable token rows: tokens added to the vocabulary for fine-tuning (the SFTKey tags) start from
 * the mean embedding and mean nothing yet, and a frozen embedding would keep them so. As PEFT's
 * {@code trainable_token_indices} does, the rows of the given token ids get a dense trainable delta
 * {@code Δ [k, D]} (zero at start) in {@code model.embed_tokens.weight} and, when untied, in
 * {@code lm_head.weight}: the effective matrix is {@code E.index_add(0, ids, Δ)}, so every other row
 * stays frozen and the merged export writes {@code E[ids] + Δ}. This costs k·D parameters per matrix
 * instead of PEFT's {@code modules_to_save} copy of the whole matrix.
 */
public final class LoraModel implements Trainable {
    /** Module names PEFT users pass as target_modules for Llama-family models. */
    public static final List<String> ALL_TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private final CausalLM base;
    private final int rank;
    private final double alpha;
    private final double scale;
    private final Map<String, Tensor> adapters = new LinkedHashMap<>();   // "<weight>.lora_A", "<weight>.lora_B"
    private final List<String> adapted;
    private final Tensor tokenIds;   // int64 [k] on the base device, or null
    private final long[] tokenIdList;

    /** Adapters only: no trainable token rows. */
    public LoraModel(CausalLM base, int rank, double alpha, List<String> targets, long seed) {
        this(base, rank, alpha, targets, seed, new long[0]);
    }

    /**
     * @param targets module-name suffixes (e.g. q_proj, v_proj); at least one weight must match
     * @param seed    seeds A's initialisation
     * @param trainableTokenIds distinct token ids whose embedding (and untied LM-head) rows are trained
     *                          through a delta (see the class comment); empty for none
     */
    public LoraModel(CausalLM base, int rank, double alpha, List<String> targets, long seed, long[] trainableTokenIds) {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        for (String t : targets) {
            if (!ALL_TARGETS.contains(t)) throw new IllegalArgumentException("unknown LoRA target module '" + t + "' (known: " + ALL_TARGETS + ")");
        }
        this.base = base;
        this.rank = rank;
        this.alpha = alpha;
        this.scale = alpha / rank;
        base.requiresGrad(false);
        List<String> names = new java.util.ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            Generator gen = torch.createCPUGenerator(seed);
            for (Map.Entry<String, Tensor> e : base.namedParameters().entrySet()) {
                String name = e.getKey();
                if (targets.stream().noneMatch(t -> name.endsWith("." + t + ".weight"))) continue;
                long out = e.getValue().size(0), in = e.getValue().size(1);
                double bound = 1.0 / Math.sqrt(in);
                Tensor a = torch.empty(new long[] {rank, in}, new TensorOptions(ScalarType.Float), new MemoryFormatOptional())
                        .uniform_(-bound, bound, new GeneratorOptional(gen)).to(base.device(), base.dtype());
                Tensor b = torch.zeros(new long[] {out, rank}, new TensorOptions(ScalarType.Float)).to(base.device(), base.dtype());
                adapters.put(name + ".lora_A", keep(a));
                adapters.put(name + ".lora_B", keep(b));
                names.add(name);
            }
        }
        if (names.isEmpty()) throw new IllegalArgumentException("no weight matches the LoRA targets " + targets);
        this.adapted = List.copyOf(names);
        this.tokenIdList = trainableTokenIds.clone();
        this.tokenIds = trainableTokenIds.length == 0 ? null : tokenRows(base, trainableTokenIds);
    }

    /**
     * Adapters given as tensors (e.g. read from a PEFT directory by {@link PeftAdapters#load}): {@code loraAB}
     * maps each adapted weight's name to {A [r, in], B [out, r]}, already on the base's device and dtype;
     * {@code tokenRowDeltas} maps {@code model.embed_tokens.weight} (and {@code lm_head.weight} when untied) to
     * its delta [k, D] for {@code trainableTokenIds}. The caller has checked names and shapes; the A and B
     * tensors are used as given (not copied) and must outlive any pointer scope they were made in.
     */
    LoraModel(CausalLM base, int rank, double alpha, Map<String, Tensor[]> loraAB, long[] trainableTokenIds,
            Map<String, Tensor> tokenRowDeltas) {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        if (loraAB.isEmpty()) throw new IllegalArgumentException("no LoRA adapter");
        this.base = base;
        this.rank = rank;
        this.alpha = alpha;
        this.scale = alpha / rank;
        base.requiresGrad(false);
        for (Map.Entry<String, Tensor[]> e : loraAB.entrySet()) {
            adapters.put(e.getKey() + ".lora_A", e.getValue()[0]);
            adapters.put(e.getKey() + ".lora_B", e.getValue()[1]);
        }
        this.adapted = List.copyOf(loraAB.keySet());
        this.tokenIdList = trainableTokenIds.clone();
        if (trainableTokenIds.length == 0) {
            this.tokenIds = null;
        } else {
            this.tokenIds = tokenRows(base, trainableTokenIds);
            for (Map.Entry<String, Tensor> e : tokenRowDeltas.entrySet()) {
                if (!adapters.containsKey(e.getKey() + TOKEN_ROWS)) throw new IllegalArgumentException("no token rows in " + e.getKey());
                adapters.get(e.getKey() + TOKEN_ROWS).copy_(e.getValue());
            }
        }
    }

    /** Suffix of the trained delta of a matrix's token rows, e.g. {@code model.embed_tokens.weight.token_rows_delta}. */
    public static final String TOKEN_ROWS = ".token_rows_delta";

    private static final List<String> TOKEN_MATRICES = List.of("model.embed_tokens.weight", "lm_head.weight");

    private Tensor tokenRows(CausalLM base, long[] ids) {
        long vocab = base.config().vocabSize();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (long id : ids) {
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("trainable token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            if (!seen.add(id)) throw new IllegalArgumentException("trainable token id " + id + " is given twice");
        }
        for (String name : TOKEN_MATRICES) {
            Tensor m = base.namedParameters().get(name);
            if (m == null) continue;   // tied: lm_head is the embedding
            adapters.put(name + TOKEN_ROWS, keep(torch.zeros(new long[] {ids.length, m.size(1)}, new TensorOptions(ScalarType.Float))
                    .to(base.device(), base.dtype())));
        }
        return keep(Tensor.create(ids).to(base.device(), ScalarType.Long));
    }

    private static Tensor keep(Tensor t) {
        t.retainReference();   // outlives the construction scope, owned by the garbage collector (as model weights)
        return t;
    }

    /** α/r. */
    public double scale() {
        return scale;
    }

    /** The rank r. */
    public int rank() {
        return rank;
    }

    /** α. */
    public double alpha() {
        return alpha;
    }

    /** The frozen base model the adapters apply to. */
    public CausalLM base() {
        return base;
    }

    /** The adapted weights' names. */
    public List<String> adaptedWeights() {
        return adapted;
    }

    /** The token ids whose rows are trained (empty if none). */
    public long[] trainableTokenIds() {
        return tokenIdList.clone();
    }

    @Override
    public org.bytedeco.pytorch.Device device() {
        return base.device();
    }

    @Override
    public CausalLM forwardModel() {
        return CausalLM.fromParameters(base.config(), effective(false));
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        return adapters;
    }

    @Override
    public CausalLM exportModel() {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            return CausalLM.fromParameters(base.config(), effective(true));
        }
    }

    private Map<String, Tensor> effective(boolean detached) {
        Map<String, Tensor> out = new LinkedHashMap<>(base.namedParameters());
        for (String name : adapted) {
            Tensor a = adapters.get(name + ".lora_A"), b = adapters.get(name + ".lora_B");
            Tensor w = base.namedParameters().get(name).add(torch.matmul(b, a).mul(new Scalar(scale)));
            out.put(name, detached ? w.detach().contiguous() : w);
        }
        if (tokenIds != null) {
            for (String name : TOKEN_MATRICES) {
                Tensor delta = adapters.get(name + TOKEN_ROWS);
                if (delta == null) continue;
                Tensor m = base.namedParameters().get(name).index_add(0, tokenIds, delta);
                out.put(name, detached ? m.detach().contiguous() : m);
            }
        }
        return out;
    }
}
