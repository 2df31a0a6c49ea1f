/**
 * A small, reusable supervised trainer for {@link dev.linchpin.model.CausalLM} on libtorch: examples
 * as prompt + response token ids ({@link dev.linchpin.train.TokenizedExample}), right-padded batches
 * with the next-token shift and a response-only weight mask ({@link dev.linchpin.train.ResponseBatch}),
 * the loss through the fused masked linear-CE kernel ({@link dev.linchpin.train.ResponseLoss}), AdamW
 * with warmup + cosine and clipping ({@link dev.linchpin.train.Trainer}), and greedy-accuracy
 * evaluation ({@link dev.linchpin.train.GreedyAccuracy}). The full trainer (CFT/DFT/SFTKey objectives,
 * LoRA, checkpoints) builds on these pieces.
 */
package dev.linchpin.train;
