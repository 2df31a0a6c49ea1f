"""PyTorch's data-parallel training on the CPU: the peer of `linchpin train --nproc N` in run-ddp-cpu.sh.

What a user would run instead: the same checkpoint in transformers, DistributedDataParallel over Gloo,
launched by torchrun, on the same data, global batch, learning rate and steps:

    python -m torch.distributed.run --nproc_per_node 2 bench/ddp_peer.py --model DIR --data train.jsonl \
        --out OUT --global-batch 8 --steps 20 --threads 1

Each step: GLOBAL sequences (the data shuffled once with --seed), rank r taking every world-th of them;
a sequence is "{question}\\n" + answer + EOS in the checkpoint's tokenizer, the loss is the sum of the
response tokens' cross-entropies over the step's global response-token count (as linchpin's sft),
AdamW at a constant learning rate, gradients clipped to norm 1. One process runs the model bare (no
DDP), as linchpin's single process does. Rank 0 writes OUT/metrics.jsonl with the fields
run-ddp-cpu.sh reads from linchpin's: step, loss, tokens_per_s (response tokens of the global batch
per second of the step) and step_s. DDP overlaps its gradient all-reduce with backward, so no
all-reduce share is reported.
"""
import argparse
import json
import os
import random
import time

import torch
import torch.distributed as dist
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--global-batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if world > 1:
        dist.init_process_group("gloo")
    if args.global_batch % world:
        raise SystemExit(f"--global-batch {args.global_batch} does not split over {world} ranks")

    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(args.model, "tokenizer.json"))
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    eos = cfg["eos_token_id"]
    pad = cfg.get("pad_token_id") if cfg.get("pad_token_id") is not None else eos
    examples = []
    with open(args.data) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                prompt = tok.encode(row["question"] + "\n", add_special_tokens=False)
                answer = tok.encode(row["answer"], add_special_tokens=False) + [eos]
            except (ValueError, KeyError) as e:
                raise SystemExit(f"{args.data}:{n}: {e}")
            examples.append((prompt, answer))
    random.Random(args.seed).shuffle(examples)

    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.train()
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)

    os.makedirs(args.out, exist_ok=True)
    metrics = open(os.path.join(args.out, "metrics.jsonl"), "w") if rank == 0 else None
    per_rank = args.global_batch // world
    for step in range(args.steps):
        start = (step * args.global_batch) % len(examples)
        batch = [examples[(start + i) % len(examples)] for i in range(args.global_batch)]
        mine = batch[rank::world]
        global_tokens = sum(len(a) for _, a in batch)
        t0 = time.perf_counter()
        width = max(len(p) + len(a) for p, a in mine)
        ids = torch.full((per_rank, width), pad, dtype=torch.long)
        labels = torch.full((per_rank, width), -100, dtype=torch.long)
        attn = torch.zeros((per_rank, width), dtype=torch.long)
        for i, (p, a) in enumerate(mine):
            seq = p + a
            ids[i, : len(seq)] = torch.tensor(seq)
            labels[i, len(p) : len(seq)] = torch.tensor(a)
            attn[i, : len(seq)] = 1
        logits = net(input_ids=ids, attention_mask=attn).logits[:, :-1].float()
        target = labels[:, 1:]
        loss_sum = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), target.reshape(-1), ignore_index=-100, reduction="sum")
        # DDP averages gradients over ranks; scaling by world / global count makes that the global token mean.
        (loss_sum * world / global_tokens).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step_s = time.perf_counter() - t0
        loss = loss_sum.detach()
        if world > 1:
            dist.all_reduce(loss)
        if metrics:
            metrics.write(json.dumps({"step": step + 1, "loss": loss.item() / global_tokens,
                                      "tokens_per_s": global_tokens / step_s, "step_s": step_s}) + "\n")
            metrics.flush()
    if metrics:
        metrics.close()
    if world > 1:
        dist.barrier()   # every rank past its last collective before any tears the group down
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
