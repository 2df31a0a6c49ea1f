package dev.linchpin.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.data.DatasetFormat;
import dev.linchpin.data.DatasetReader;
import dev.linchpin.data.Example;
import dev.linchpin.data.PromptEncoder;
import dev.linchpin.io.AtomicFiles;
import dev.linchpin.mine.MaskRecord;
import dev.linchpin.mine.MasksJson;
import dev.linchpin.model.CausalLM;
import dev.linchpin.tokenizer.Tokenizer;
import dev.linchpin.train.MaskRecords;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes the entropy objective's masks: for every kept record of the mined masks (D_correct), the base
 * model's next-token entropy at each response position (one forward pass over prompt + response, float64
 * entropy of the softmax of its logits), the top positions by {@link EntropySelection} at the record's
 * CFT count, as a masks file whose {@code critical} lists those positions ({@code positions} empty: no
 * rollouts were made). Training CFT's loss on that file is the entropy objective. Also writes the overlap
 * of the two selections ({@link EntropySelection.Overlap}) as JSON.
 */
public final class EntropyMasks {
    private EntropyMasks() {}

    /** Computes the selection for {@code masks} (mined from {@code questions}) with the base in {@code baseDir}. */
    public static EntropySelection.Overlap write(Path baseDir, Path questions, Path masks, Path out, Path overlapJson, int threads)
            throws IOException {
        torch.set_num_threads(threads);
        List<MaskRecord> kept = MaskRecords.readKept(masks);
        Map<String, Example> byId = new HashMap<>();
        try (DatasetReader r = DatasetReader.open(questions, DatasetFormat.AUTO)) {
            while (r.hasNext()) {
                Example e = r.next();
                byId.put(e.id(), e);
            }
        }
        StringBuilder lines = new StringBuilder();
        EntropySelection.Overlap overlap = EntropySelection.Overlap.none();
        CausalLM model = CausalLM.load(baseDir, new Device("cpu"), ScalarType.Float);
        try (Tokenizer tokenizer = Tokenizer.load(baseDir); NoGradGuard noGrad = new NoGradGuard()) {
            PromptEncoder encoder = PromptEncoder.of(tokenizer, PromptEncoder.Style.AUTO, null, null);
            for (MaskRecord rec : kept) {
                Example e = byId.get(rec.id());
                if (e == null) throw new IllegalArgumentException(masks + ": record '" + rec.id() + "' is not in " + questions);
                long[] prompt = encoder.encode(e);
                if (prompt.length != rec.promptTokens()) {
                    throw new IllegalArgumentException(masks + ": record '" + rec.id() + "': the prompt encodes to " + prompt.length
                            + " tokens, the masks file says " + rec.promptTokens());
                }
                double[] h = responseEntropy(model, prompt, rec.responseIds());
                List<Integer> top = EntropySelection.top(h, rec.critical().size());
                overlap = overlap.plus(rec.critical(), top, h.length);
                lines.append(MasksJson.toLine(new MaskRecord(rec.id(), rec.index(), rec.question(), rec.gold(), true, rec.answer(),
                        rec.promptTokens(), rec.responseIds(), rec.responseTokens(), rec.responseText(), top, List.of()))).append('\n');
            }
        }
        AtomicFiles.writeString(out, lines.toString());
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = json.createObjectNode();
        o.put("responses", overlap.responses());
        o.put("critical_tokens", overlap.critical());
        o.put("entropy_tokens", overlap.entropy());
        o.put("intersection", overlap.intersection());
        o.put("union", overlap.union());
        o.put("jaccard", overlap.jaccard());
        o.put("critical_also_high_entropy", overlap.criticalAlsoHighEntropy());
        o.put("chance_fraction", overlap.chanceFraction());
        o.put("selection", "per response, the m positions of highest base-model entropy, m = CFT's critical count there; "
                + "ties: earlier position first");
        AtomicFiles.writeString(overlapJson, json.writeValueAsString(o) + "\n");
        return overlap;
    }

    /**
     * The base model's entropy (nats, float64) of its next-token distribution at each response position:
     * position t is predicted from prompt + response[0..t), i.e. by the logits at sequence index P - 1 + t.
     */
    static double[] responseEntropy(CausalLM model, long[] prompt, long[] response) {
        int p = prompt.length, n = response.length;
        long[] ids = new long[p + n];
        System.arraycopy(prompt, 0, ids, 0, p);
        System.arraycopy(response, 0, ids, p, n);
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = model.logits(Tensor.create(ids, 1, ids.length), null);
            Tensor rows = logits.select(0, 0).narrow(0, p - 1, n).to(ScalarType.Float).contiguous();
            int v = (int) rows.size(1);
            float[] x = new float[n * v];
            new FloatPointer(rows.data_ptr()).get(x);
            double[] h = new double[n];
            for (int t = 0; t < n; t++) h[t] = entropy(x, t * v, v);
            return h;
        }
    }

    /** Entropy of softmax(x[off .. off+v)) in float64. */
    static double entropy(float[] x, int off, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, x[off + i]);
        if (!Double.isFinite(max)) throw new IllegalStateException("the model produced non-finite logits");
        double z = 0, s = 0;
        for (int i = 0; i < v; i++) {
            double d = x[off + i] - max, e = Math.exp(d);
            z += e;
            s += e * d;
        }
        // H = log Z - Σ e_i d_i / Z with d_i = x_i - max and Z = Σ e^{d_i}
        return Math.log(z) - s / z;
    }
}
