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
