/**
 * A small, reusable supervised trainer for {@link dev.linchpin.model.CausalLM} on libtorch: examples
 * as prompt + response token ids ({@link dev.linchpin.train.TokenizedExample}), right-padded batches
 * with the next-token shift and a response-only weight mask ({@link dev.linchpin.train.ResponseBatch}),
 * the loss through the fused masked linear-CE kernel ({@link dev.linchpin.train.ResponseLoss}), AdamW
 * with warmup + cosine and clipping ({@link dev.linchpin.train.Trainer}), and greedy-accuracy
 * evaluation ({@link dev.linchpin.train.GreedyAccuracy}). The trainer of {@code linchpin train} builds on these:
 * per-token weights for every objective ({@link dev.linchpin.train.Objectives},
 * {@link dev.linchpin.train.WeightedExample}), step-global normalisation
 * ({@link dev.linchpin.train.Normalization}, {@link dev.linchpin.train.WeightedBatch}), DFT's detached
 * probability ({@link dev.linchpin.train.ObjectiveLoss}), full fine-tuning or LoRA
 * ({@link dev.linchpin.train.Trainable}), and the loop with checkpoints and exact resume
 * ({@link dev.linchpin.train.FineTuner}, {@link dev.linchpin.train.Checkpoints}).
 */
package dev.linchpin.train;
