package dev.linchpin.train;

import java.nio.file.Path;

/**
 * Where a {@link FineTuner} run writes, if anywhere. With a directory: {@code checkpoint-<step>/}
 * ({@link Checkpoints}), {@code metrics.jsonl} and {@code final/} (Hugging Face layout, merged weights for
 * LoRA), the tokenizer files of {@code tokenizerDir} copied into each; {@code resume} continues from the
 * latest checkpoint there. {@link #inMemory()}: nothing is written (the caller keeps the trained model),
 * as the embedded default's pre-training does.
 *
 * @param dir          the output directory, or null for {@link #inMemory()}
 * @param tokenizerDir tokenizer files copied into every checkpoint and the final model, or null
 * @param resume       continue from the latest checkpoint in {@code dir} when there is one
 */
public record TrainingOutput(Path dir, Path tokenizerDir, boolean resume) {
    private static final TrainingOutput IN_MEMORY = new TrainingOutput(null, null, false);

    public TrainingOutput {
        if (dir == null && (tokenizerDir != null || resume)) {
            throw new IllegalArgumentException("a tokenizer directory or resume needs an output directory");
        }
    }

    /** Writes under {@code dir}, starting over (no resume), with no tokenizer files. */
    public static TrainingOutput to(Path dir) {
        if (dir == null) throw new IllegalArgumentException("output directory is null; use TrainingOutput.inMemory()");
        return new TrainingOutput(dir, null, false);
    }

    /** Writes nothing. */
    public static TrainingOutput inMemory() {
        return IN_MEMORY;
    }

    /** This output with the tokenizer files of {@code tokenizerDirOrNull} copied into each saved model. */
    public TrainingOutput withTokenizer(Path tokenizerDirOrNull) {
        return new TrainingOutput(dir, tokenizerDirOrNull, resume);
    }

    /** This output, continuing from its latest checkpoint when {@code on} (and there is one). */
    public TrainingOutput resuming(boolean on) {
        return new TrainingOutput(dir, tokenizerDir, on);
    }

    /** Whether anything is written. */
    public boolean writes() {
        return dir != null;
    }
}
