#!/usr/bin/env python3
"""PyTorch peers of the top-k and sampling kernels (bench/native/bench_topk.cu's configurations).

V = 152064, batch B in {64, 512}, fp32 logits N(0, 2.5^2). Modes (same names as the native bench):
  topk          torch.topk(z, n) + the softmax probabilities of those tokens (n = 3, 9)
  greedy        torch.argmax
  sample        softmax(z / 1.0) + torch.multinomial
  sample_top_p  sort-based top-p (temperature 0.7, top_p 0.9): sort, cumsum, mask, renormalise,
                multinomial, gather back the token id
Timing: CUDA events, warm-up, median of `iters`. Appends one JSON object per line to --jsonl; past
--deadline-s the rest is "skipped". Needs torch with a GPU.
"""
import argparse
import json
import statistics
import sys
import time

import torch

V = 152064


def time_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def topk_probs(z, n):
    vals, ids = torch.topk(z, n, dim=-1)
    return ids, torch.exp(vals - torch.logsumexp(z, dim=-1, keepdim=True))


def sample_top_p(z, temperature, top_p):
    p = torch.softmax(z / temperature, dim=-1)
    sp, si = torch.sort(p, dim=-1, descending=True)
    before = torch.cumsum(sp, dim=-1) - sp
    sp = sp.masked_fill(before >= top_p, 0.0)
    choice = torch.multinomial(sp / sp.sum(-1, keepdim=True), 1)
    return si.gather(-1, choice)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", required=True, help="append results here")
    ap.add_argument("--deadline-s", type=float, default=1e9, help="seconds after which the rest is skipped")
    ap.add_argument("--quick", action="store_true", help="1 warm-up, 3 timed steps")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    if args.quick:
        args.warmup, args.iters = 1, 3
    if not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    t_end = time.time() + args.deadline_s
    device = torch.cuda.get_device_name()
    out = open(args.jsonl, "a")
    failures = 0

    def emit(rec):
        rec = {"bench": "topk_sampling", "device": device, "torch": torch.__version__, "V": V, **rec}
        out.write(json.dumps(rec) + "\n")
        out.flush()
        print(json.dumps(rec))

    for B in (64, 512):
        g = torch.Generator(device="cuda").manual_seed(B)
        z = torch.randn(B, V, device="cuda", generator=g) * 2.5
        cases = [("topk", 3, 1.0, 1.0, lambda: topk_probs(z, 3)), ("topk", 9, 1.0, 1.0, lambda: topk_probs(z, 9)),
                 ("greedy", 1, 0.0, 1.0, lambda: torch.argmax(z, dim=-1)),
                 ("sample", 1, 1.0, 1.0, lambda: torch.multinomial(torch.softmax(z, dim=-1), 1)),
                 ("sample_top_p", 1, 0.7, 0.9, lambda: sample_top_p(z, 0.7, 0.9))]
        for mode, n, temperature, top_p, fn in cases:
            base = {"mode": mode, "B": B, "n": n, "temperature": temperature, "top_p": top_p,
                    "warmup": args.warmup, "iters": args.iters,
                    "impl": "torch_sort_top_p" if mode == "sample_top_p" else f"torch_{mode}"}
            if time.time() > t_end:
                emit({**base, "status": "skipped", "error": "time budget spent"})
                continue
            try:
                med, best = time_ms(fn, args.warmup, args.iters)
                emit({**base, "status": "ok", "ms_median": med, "ms_min": best,
                      "gb_per_s_logits": B * V * 4 / (med * 1e-3) / 1e9})
            except torch.cuda.OutOfMemoryError:
                emit({**base, "status": "oom"})
            except Exception as e:  # noqa: BLE001 - a peer failing is a result to record
                failures += 1
                emit({**base, "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
        del z
        torch.cuda.empty_cache()
    out.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
