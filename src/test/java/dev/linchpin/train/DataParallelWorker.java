package dev.linchpin.train;

import dev.linchpin.distributed.DataParallel;
import dev.linchpin.distributed.Rendezvous;
import dev.linchpin.model.CausalLM;
import dev.linchpin.model.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

/**
 * One rank of {@link DataParallelTrainingTest}'s jobs, in its own JVM: trains the test's tiny model on the
 * test's examples with a {@link DataParallel} group, then writes its trained tensors to
 * {@code out/rank-<r>.safetensors}. Prints "step N" after each step; on failure prints the error's
 * message and exits with status 1.
 *
 * <p>Arguments: objective (sft|cft) rank world port out steps checkpointEvery resume(true|false) timeoutSeconds
 */
public final class DataParallelWorker {
    private DataParallelWorker() {}

    /** The examples of an objective: all weights 1 (sft), or sparse critical weights (cft). */
    static List<WeightedExample> examples(String objective) {
        Random weights = new Random(11);
        return ObjectiveTesting.randomExamples(new Random(7), 24,
                objective.equals("cft") ? i -> weights.nextInt(3) == 0 ? 1f : 0f : i -> 1f);
    }

    /** The configuration of every rank: 2 micro-batches of 2 per rank and step, clipping at 0.5. */
    static FineTuneConfig config(int steps, int checkpointEvery, int microBatch) {
        return FineTuneConfig.builder(steps).batch(microBatch, 2).learningRate(1e-2, 0).maxGradNorm(0.5).threads(1).deterministic(true)
                .checkpointEvery(checkpointEvery).keepCheckpoints(2).build();
    }

    static CausalLM model() {
        return ObjectiveTesting.tinyModel(3);
    }

    public static void main(String[] args) throws Exception {
        String objective = args[0];
        int rank = Integer.parseInt(args[1]), world = Integer.parseInt(args[2]), port = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);
        int steps = Integer.parseInt(args[5]), every = Integer.parseInt(args[6]);
        boolean resume = Boolean.parseBoolean(args[7]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(args[8]));
        try {
            CausalLM model = model();
            List<WeightedExample> data = examples(objective);
            FineTuneConfig config = config(steps, every, 2);
            try (DataParallel dp = DataParallel.join(new Rendezvous(rank, world, "127.0.0.1", port, rank, timeout), new Device("cpu"))) {
                FineTuner.train(new FullFineTune(model), List.of(new TrainingStage(objective, data, steps)), ObjectiveTesting.PAD, config,
                        TrainingOutput.to(out).resuming(resume), m -> {
                            System.out.println("step " + m.stepsDone() + " loss " + m.loss() + " allreduce_s " + m.allReduceSeconds());
                            System.out.flush();
                        }, dp);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>(model.namedParameters());
            Files.createDirectories(out);
            SafetensorsWriter.write(out.resolve("rank-" + rank + ".safetensors"), tensors, Map.of("format", "pt"));
            System.out.println("done");
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("error: " + t.getMessage());
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }
}
