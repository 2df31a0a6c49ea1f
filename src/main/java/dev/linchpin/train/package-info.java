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
 * ({@link dev.linchpin.train.Trainable}, {@link dev.linchpin.train.LoraModel}, whose added-token rows can
 * train through a delta as PEFT's {@code trainable_token_indices}), and the loop with checkpoints,
 * retention and exact resume, LoRA included ({@link dev.linchpin.train.FineTuner},
 * {@link dev.linchpin.train.Checkpoints}).
 *
 * <p>Precision ({@link dev.linchpin.train.Precision}): the trained tensors and AdamW's moments are always
 * fp32; {@code BF16} runs the model's forward under libtorch autocast ({@link dev.linchpin.train.Autocast},
 * CPU or CUDA) and hands the fused loss kernel what it accepts: bf16 h and W on CUDA, fp32 h on CPU.
 */
package dev.linchpin.train;
