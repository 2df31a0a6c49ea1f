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
import sys

import torch

from _peer import Recorder, parse_args, time_ms

V = 152064




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
    args = parse_args(__doc__)
    if not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    recorder = Recorder(args, bench="topk_sampling", V=V)
    emit = recorder.emit
    failures = 0

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
            if recorder.past_deadline():
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
    recorder.out.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
