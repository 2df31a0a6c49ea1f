#!/usr/bin/env python3
"""PyTorch peers of the fused masked linear cross-entropy, fwd+bwd, bf16, at the published peers' sizes (Llama 3, Gemma 2).

Peers (each: loss = sum_i w_i * CE(W h_i, y_i) / denom, then backward to h and W):
  torch_eager          full logits [N, V] (bf16 GEMM, upcast to fp32) + F.cross_entropy
  torch_compile        torch.compile of the same function (dynamic=False)
  torch_compact_first  rows with w != 0 selected first (index_select), then the eager code
  gemm_floor           the three bf16 GEMMs of the valid tokens alone (logits, dh, dW) with torch.matmul:
                       the time a perfect fused kernel could not beat by much
and one gemm_ceiling record: an 8192^3 bf16 torch.matmul, the device's measured matrix rate.

Timing: CUDA events, warm-up, median of `iters`; inputs random (never zeros). Peak memory:
torch.cuda.max_memory_allocated over one step after reset, as `peak_mb` (everything: inputs, grads,
temporaries) and `peak_extra_mb` (above what was allocated before the step, i.e. without the inputs).
tflops counts 6 * valid_tokens * D * V (the same count as bench/native/bench_masked_ce.cu).
Sizes that run out of memory are recorded with status "oom"; past --deadline-s the rest is "skipped".
Appends one JSON object per line to --jsonl. Needs torch with a GPU; nothing else.
"""
import math
import sys

import torch
import torch.nn.functional as F

from _peer import Recorder, parse_args, time_ms

# (N, D, V, density): the 12% configurations first, since the goals are stated there.
CONFIGS = [
    (4096, 4096, 128256, 0.12), (16384, 4096, 128256, 0.12), (8192, 2304, 256000, 0.12),
    (4096, 4096, 128256, 0.05), (16384, 4096, 128256, 0.05), (8192, 2304, 256000, 0.05),
    (4096, 4096, 128256, 1.0), (16384, 4096, 128256, 1.0), (8192, 2304, 256000, 1.0),
]


def masked_ce(h, W, y, w, denom):
    logits = (h @ W.t()).float()
    return (F.cross_entropy(logits, y, reduction="none") * w).sum() / denom


def compact_first(h, W, y, w, denom):
    idx = w.nonzero().squeeze(1)
    return masked_ce(h.index_select(0, idx), W, y.index_select(0, idx), w.index_select(0, idx), denom)




def peak_of(fn):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    return peak / 2**20, (peak - base) / 2**20


def inputs(N, D, V, density, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    h = (torch.rand(N, D, device="cuda", generator=g) * 2 - 1).to(torch.bfloat16).requires_grad_()
    W = ((torch.rand(V, D, device="cuda", generator=g) * 2 - 1) * (2 * math.sqrt(3 / D))).to(torch.bfloat16)
    W.requires_grad_()
    w = (torch.rand(N, device="cuda", generator=g) < density).float()
    y = torch.randint(0, V, (N,), device="cuda", generator=g)
    return h, W, y, w


def main():
    args = parse_args(__doc__)
    if not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    recorder = Recorder(args, bench="masked_linear_ce", dtype="bf16")
    emit = recorder.emit

    # Device ceiling: a large square bf16 product on random data.
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    ms, _ = time_ms(lambda: a @ b, 3, 10)
    emit({"bench": "gemm_ceiling", "impl": "torch_matmul", "M": 8192, "K": 8192, "Nn": 8192, "status": "ok",
          "ms_median": ms, "tflops": 2 * 8192**3 / (ms * 1e-3) / 1e12})
    del a, b

    compiled = torch.compile(masked_ce, dynamic=False)
    failures = 0
    for seed, (N, D, V, density) in enumerate(CONFIGS):
        base = {"N": N, "D": D, "V": V, "density": density}
        try:
            h, W, y, w = inputs(N, D, V, density, 1000 + seed)
        except torch.cuda.OutOfMemoryError:
            emit({**base, "impl": "inputs", "status": "oom"})
            torch.cuda.empty_cache()
            continue
        M = int((w != 0).sum().item())
        denom = float(max(M, 1))
        flops = 6.0 * M * D * V
        base.update(valid_tokens=M, warmup=args.warmup, iters=args.iters, flops_counted=flops)
        losses = {}
        for impl, fn in (("torch_eager", masked_ce), ("torch_compact_first", compact_first),
                         ("torch_compile", compiled)):
            if recorder.past_deadline():
                emit({**base, "impl": impl, "status": "skipped", "error": "time budget spent"})
                continue

            def step():
                h.grad = None
                W.grad = None
                loss = fn(h, W, y, w, denom)
                loss.backward()
                return loss

            try:
                losses[impl] = float(step().item())          # also compiles torch_compile
                med, best = time_ms(step, args.warmup, args.iters)
                peak, extra = peak_of(step)
                emit({**base, "impl": impl, "status": "ok", "ms_median": med, "ms_min": best, "peak_mb": peak,
                      "peak_extra_mb": extra, "tflops": flops / (med * 1e-3) / 1e12, "loss": losses[impl]})
            except torch.cuda.OutOfMemoryError:
                emit({**base, "impl": impl, "status": "oom"})
            except Exception as e:  # noqa: BLE001 - a peer failing is a result to record, not a crash
                failures += 1
                emit({**base, "impl": impl, "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
            h.grad = None
            W.grad = None
            torch.cuda.empty_cache()
        # The peers must agree with each other (fp32 CE over the same bf16 logits): a sanity check.
        if "torch_eager" in losses:
            for impl, value in losses.items():
                if not math.isclose(value, losses["torch_eager"], rel_tol=1e-2, abs_tol=1e-3):
                    failures += 1
                    emit({**base, "impl": impl, "status": "error",
                          "error": f"loss {value} disagrees with torch_eager {losses['torch_eager']}"})
        # GEMM floor at the valid-token shapes: logits [M,V] = hs W^T; dh = G W; dW = G^T hs.
        if M > 0 and not recorder.past_deadline():
            try:
                with torch.no_grad():
                    hs = h.detach()[:M].contiguous()
                    Wd = W.detach()
                    G = (torch.rand(M, V, device="cuda", dtype=torch.bfloat16) - 0.5)
                    parts = [time_ms(lambda: hs @ Wd.t(), args.warmup, args.iters)[0],
                             time_ms(lambda: G @ Wd, args.warmup, args.iters)[0],
                             time_ms(lambda: G.t() @ hs, args.warmup, args.iters)[0]]
                    del G
                floor = sum(parts)
                emit({**base, "impl": "gemm_floor", "status": "ok", "ms_median": floor,
                      "ms_parts": parts, "tflops": flops / (floor * 1e-3) / 1e12})
            except torch.cuda.OutOfMemoryError:
                emit({**base, "impl": "gemm_floor", "status": "oom"})
        del h, W, y, w
        torch.cuda.empty_cache()
    recorder.out.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
