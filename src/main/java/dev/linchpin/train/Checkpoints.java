package dev.linchpin.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.linchpin.model.safetensors.SafetensorsFile;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;

/**
 * Training checkpoints under an output directory: {@code checkpoint-<step>/} holds the model in Hugging
 * Face layout (config.json, model.safetensors, tokenizer files; merged weights for LoRA), the trained
 * tensors ({@code trainable.safetensors}: the full weights or the LoRA A/B matrices), the AdamW state
 * ({@code optimizer.pt}, libtorch's archive) and {@code trainer_state.json} (the step count).
 *
 * <p>Atomicity: a checkpoint is written into {@code .tmp-checkpoint-<step>} and renamed into place
 * when complete, so {@code checkpoint-*} directories are always whole; a killed writer leaves only a
 * temporary directory, removed by the next save. After a new checkpoint lands, older ones beyond the
 * latest {@code keep} are deleted, except the one the run resumed from (kept for the whole run).
 */
public final class Checkpoints {
    static final String STATE = "trainer_state.json", TRAINABLE = "trainable.safetensors", OPTIMIZER = "optimizer.pt";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoints() {}

    /** Writes the checkpoint of {@code stepsDone} completed steps, keeping no older one; returns its directory. */
    public static Path save(Path outDir, int stepsDone, Trainable trainable, AdamW optimizer, Path tokenizerDirOrNull,
            ObjectNode extraState) throws IOException {
        return save(outDir, stepsDone, trainable, optimizer, tokenizerDirOrNull, extraState, 1, null);
    }

    /**
     * Writes the checkpoint of {@code stepsDone} completed steps; returns its directory. Then deletes the
     * older checkpoints (fewer steps) beyond the latest {@code keep} (the new one counts), never
     * {@code protectedOrNull}.
     */
    public static Path save(Path outDir, int stepsDone, Trainable trainable, AdamW optimizer, Path tokenizerDirOrNull,
            ObjectNode extraState, int keep, Path protectedOrNull) throws IOException {
        if (keep < 1) throw new IllegalArgumentException("checkpoints to keep must be >= 1, got " + keep);
        Files.createDirectories(outDir);
        try (Stream<Path> s = Files.list(outDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".tmp-checkpoint-")).toList()) deleteTree(p);
        }
        Path tmp = outDir.resolve(".tmp-checkpoint-" + stepsDone), dir = outDir.resolve("checkpoint-" + stepsDone);
        Files.createDirectories(tmp);
        trainable.exportModel().save(tmp, tokenizerDirOrNull);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : trainable.trainableParameters().entrySet()) tensors.put(e.getKey(), e.getValue().detach());
        }
        SafetensorsWriter.write(tmp.resolve(TRAINABLE), tensors, Map.of("format", "pt"));
        try (PointerScope scope = new PointerScope()) {
            OutputArchive archive = new OutputArchive();
            optimizer.save(archive);
            archive.save_to(tmp.resolve(OPTIMIZER).toString());
        }
        ObjectNode state = extraState == null ? JSON.createObjectNode() : extraState.deepCopy();
        state.put("step", stepsDone);
        SafetensorsWriter.writeTextAtomically(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
        if (Files.exists(dir)) deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        java.util.List<Path> older = new java.util.ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(outDir, "checkpoint-*")) {
            for (Path p : s) if (!p.equals(dir) && stepOf(p) >= 0 && stepOf(p) < stepsDone) older.add(p);
        }
        older.sort(Comparator.comparingInt(Checkpoints::stepOf).reversed());
        for (Path p : older.subList(Math.min(older.size(), keep - 1), older.size())) {
            if (protectedOrNull == null || !p.toAbsolutePath().normalize().equals(protectedOrNull.toAbsolutePath().normalize())) deleteTree(p);
        }
        return dir;
    }

    /** The complete checkpoint with the most steps under {@code outDir}, or null if there is none. */
    public static Path latest(Path outDir) throws IOException {
        if (!Files.isDirectory(outDir)) return null;
        try (Stream<Path> s = Files.list(outDir)) {
            return s.filter(p -> stepOf(p) >= 0 && Files.isRegularFile(p.resolve(STATE)))
                    .max(Comparator.comparingInt(Checkpoints::stepOf)).orElse(null);
        }
    }

    /** Reads a checkpoint's trainer state. */
    public static JsonNode state(Path checkpoint) throws IOException {
        JsonNode n = JSON.readTree(checkpoint.resolve(STATE).toFile());
        if (n == null || !n.path("step").canConvertToInt()) throw new IOException(checkpoint.resolve(STATE) + ": no integer 'step'");
        return n;
    }

    /**
     * Restores the trained tensors and the optimizer state of {@code checkpoint} into {@code trainable}
     * and {@code optimizer} (which must have been built the same way as the run that wrote it).
     */
    public static void restore(Path checkpoint, Trainable trainable, AdamW optimizer) throws IOException {
        try (SafetensorsFile file = SafetensorsFile.open(checkpoint.resolve(TRAINABLE));
             NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> params = trainable.trainableParameters();
            if (!file.tensors().keySet().equals(params.keySet())) {
                throw new IOException(checkpoint.resolve(TRAINABLE) + ": tensors " + file.tensors().keySet()
                        + " do not match the trained tensors of this run (same model, LoRA settings?)");
            }
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor saved = file.load(e.getKey());
                    if (!java.util.Arrays.equals(saved.sizes().vec().get(), e.getValue().sizes().vec().get())) {
                        throw new IOException(checkpoint.resolve(TRAINABLE) + ": '" + e.getKey() + "' has the wrong shape");
                    }
                    e.getValue().copy_(saved.to(e.getValue().device(), e.getValue().scalar_type()));
                }
            }
        }
        try (PointerScope scope = new PointerScope()) {
            InputArchive archive = new InputArchive();
            archive.load_from(checkpoint.resolve(OPTIMIZER).toString());
            optimizer.load(archive);
        }
    }

    static int stepOf(Path p) {
        String n = p.getFileName().toString();
        if (!n.startsWith("checkpoint-")) return -1;
        try {
            return Integer.parseInt(n.substring("checkpoint-".length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
