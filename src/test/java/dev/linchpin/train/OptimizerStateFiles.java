package dev.linchpin.train;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.Tensor;

/** Reads every tensor of a libtorch optimizer archive ({@code optimizer.pt}) by its nested key path. */
final class OptimizerStateFiles {
    private OptimizerStateFiles() {}

    /** E.g. {@code state/0/exp_avg} → tensor, for every tensor at any depth. */
    static Map<String, Tensor> tensors(Path optimizerPt) {
        InputArchive archive = new InputArchive();
        archive.load_from(optimizerPt.toString());
        Map<String, Tensor> out = new TreeMap<>();
        collect(archive, "", out);
        return out;
    }

    /**
     * The per-parameter state in parameter order: libtorch keys the state by the parameter's TensorImpl
     * address at save time ({@code state/<address>/exp_avg}) and lists those addresses in order under
     * {@code param_groups/<g>/params/<i>}; loading maps them back by position. Entry i holds the tensors of
     * parameter i of group 0 (e.g. {@code exp_avg}, {@code exp_avg_sq}).
     */
    static java.util.List<Map<String, Tensor>> byPosition(Path optimizerPt) {
        InputArchive archive = new InputArchive();
        archive.load_from(optimizerPt.toString());
        InputArchive groups = new InputArchive(), state = new InputArchive();
        if (!archive.try_read("param_groups", groups) || !archive.try_read("state", state)) {
            throw new IllegalStateException(optimizerPt + ": no param_groups/state");
        }
        Tensor size = new Tensor();
        InputArchive group0 = new InputArchive();
        if (!groups.try_read("param_groups/0", group0) || !group0.try_read("params/size", size)) {
            StringBuilder keys = new StringBuilder();
            for (org.bytedeco.javacpp.BytePointer k : groups.keys().get()) keys.append(k.getString()).append(' ');
            throw new IllegalStateException(optimizerPt + ": no params/size among " + keys);
        }
        java.util.List<Map<String, Tensor>> out = new java.util.ArrayList<>();
        for (long i = 0; i < size.item_long(); i++) {
            org.bytedeco.pytorch.IValue address = new org.bytedeco.pytorch.IValue();
            if (!group0.try_read("params/" + i, address)) throw new IllegalStateException("no param address " + i);
            InputArchive param = new InputArchive();
            if (!state.try_read(address.toStringRef().getString(), param)) throw new IllegalStateException("no state " + address.toStringRef().getString());
            Map<String, Tensor> tensors = new TreeMap<>();
            collect(param, "", tensors);
            out.add(tensors);
        }
        return out;
    }

    private static void collect(InputArchive archive, String prefix, Map<String, Tensor> out) {
        for (org.bytedeco.javacpp.BytePointer key : archive.keys().get()) {
            String name = key.getString();
            Tensor t = new Tensor();
            if (archive.try_read(name, t)) {
                out.put(prefix + name, t);
                continue;
            }
            InputArchive sub = new InputArchive();
            if (archive.try_read(name, sub)) collect(sub, prefix + name + "/", out);
        }
    }
}
