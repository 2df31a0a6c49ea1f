/**
 * Training of {@link dev.linchpin.model.CausalLM} on libtorch: one job, one trainer, one loss mechanism.
 *
 * <ul>
 *   <li>The job: {@link dev.linchpin.train.TrainingRun} (model directory + data + masks → checkpoints,
 *       metrics and the final model), what {@code linchpin train} and the demo run; the objective is an
 *       {@link dev.linchpin.train.Objective}.</li>
 *   <li>The mechanism: every objective is a float weight per response token
 *       ({@link dev.linchpin.train.WeightedExample}, built by {@link dev.linchpin.train.Objectives}); a
 *       micro-batch lays them out with the next-token shift and the step-global
 *       {@link dev.linchpin.train.Normalization} ({@link dev.linchpin.train.WeightedBatch}); the loss runs
 *       through the fused masked linear-CE kernel, with DFT's detached probability
 *       ({@link dev.linchpin.train.ObjectiveLoss}).</li>
 *   <li>The trainer: {@link dev.linchpin.train.FineTuner}, configured by a
 *       {@link dev.linchpin.train.FineTuneConfig} (built by name), telling a
 *       {@link dev.linchpin.train.TrainingListener} each step's {@link dev.linchpin.train.StepMetrics}. It
 *       serves the embedded default's pre-training too (all weights 1, {@link dev.linchpin.train.TrainingOutput#inMemory()}).
 *       Full fine-tuning or LoRA ({@link dev.linchpin.train.Trainable}, {@link dev.linchpin.train.LoraModel},
 *       whose added-token rows can train through a delta as PEFT's {@code trainable_token_indices});
 *       checkpoints with retention and exact resume ({@link dev.linchpin.train.Checkpoints}).</li>
 *   <li>Greedy-accuracy evaluation on the Java model ({@link dev.linchpin.train.GreedyAccuracy}), used by
 *       the embedded default before any engine exists.</li>
 * </ul>
 *
 * <p>Precision ({@link dev.linchpin.train.Precision}): the trained tensors and AdamW's moments are always
 * fp32; {@code BF16} runs the model's forward under libtorch autocast ({@link dev.linchpin.train.Autocast},
 * CPU or CUDA) and hands the fused loss kernel what it accepts: bf16 h and W on CUDA, fp32 h on CPU.
 */
package dev.linchpin.train;
