#!/usr/bin/env python3
"""PyTorch peers of the staircase attention (bench/native/bench_staircase.cu's configurations).

Decode step of n branches of one trajectory: T in {1024, 4096, 8192}, n in {16, 64, 256}, GQA 32/8 and
28/4, d = 128, bf16. Branch i attends to the shared KV [0, b_i), b_i = T (i + 1) / n, plus its own
suffix key/value (one row). Peers:
  torch_sdpa_per_branch    one F.scaled_dot_product_attention per branch over its own KV
                           (cat(shared[:b_i], suffix_i), built before timing: what a per-branch cache
                           holds); every branch reads its whole prefix.
  torch_sdpa_mask_batch    one SDPA call for all branches over [shared KV; n suffix rows] with a boolean
                           staircase mask [n, T + n] (reads the shared KV once, but attends densely).
Timing: CUDA events, warm-up, median of `iters`; random inputs. Outputs of the two peers are
cross-checked (bf16 tolerance). Appends one JSON object per line to --jsonl; sizes that run out of
memory are "oom"; past --deadline-s the rest is "skipped". Needs torch with a GPU.
"""
import sys

import torch
import torch.nn.functional as F

from _peer import Recorder, parse_args, time_ms

CONFIGS = [(T, n, H, Hkv) for T in (1024, 4096, 8192) for n in (16, 64, 256) for (H, Hkv) in ((32, 8), (28, 4))]
D = 128




def sdpa_gqa(q, k, v, mask=None):
    """q [1, H, L, d], k/v [1, Hkv, S, d]; GQA through enable_gqa where torch has it, else expanded."""
    try:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
    except TypeError:
        g = q.shape[1] // k.shape[1]
        return F.scaled_dot_product_attention(q, k.repeat_interleave(g, 1), v.repeat_interleave(g, 1), attn_mask=mask)


def main():
    args = parse_args(__doc__)
    if not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    recorder = Recorder(args, bench="staircase_attention", dtype="bf16")
    emit = recorder.emit
    failures = 0

    for T, n, H, Hkv in CONFIGS:
        base = {"T": T, "branches": n, "H": H, "Hkv": Hkv, "d": D, "suffix_rows": 1, "branch_points": "T*(i+1)/n",
                "warmup": args.warmup, "iters": args.iters}
        if recorder.past_deadline():
            for impl in ("torch_sdpa_per_branch", "torch_sdpa_mask_batch"):
                emit({**base, "impl": impl, "status": "skipped", "error": "time budget spent"})
            continue
        g = torch.Generator(device="cuda").manual_seed(T * 1000 + n)
        bf = dict(device="cuda", dtype=torch.bfloat16)
        q = torch.randn(1, H, n, D, generator=g, **bf)
        ks, vs = torch.randn(1, Hkv, T, D, generator=g, **bf), torch.randn(1, Hkv, T, D, generator=g, **bf)
        kx, vx = torch.randn(1, Hkv, n, D, generator=g, **bf), torch.randn(1, Hkv, n, D, generator=g, **bf)
        bps = [T * (i + 1) // n for i in range(n)]
        results = {}
        try:  # per-branch caches, built before timing
            kb = [torch.cat([ks[:, :, :b], kx[:, :, i:i + 1]], 2).contiguous() for i, b in enumerate(bps)]
            vb = [torch.cat([vs[:, :, :b], vx[:, :, i:i + 1]], 2).contiguous() for i, b in enumerate(bps)]
            qb = [q[:, :, i:i + 1].contiguous() for i in range(n)]
            outs = [None] * n

            def per_branch():
                for i in range(n):
                    outs[i] = sdpa_gqa(qb[i], kb[i], vb[i])

            med, best = time_ms(per_branch, args.warmup, args.iters)
            results["per"] = torch.cat(outs, 2).float()
            emit({**base, "impl": "torch_sdpa_per_branch", "status": "ok", "ms_median": med, "ms_min": best})
            del kb, vb, qb, outs
        except torch.cuda.OutOfMemoryError:
            emit({**base, "impl": "torch_sdpa_per_branch", "status": "oom"})
        except Exception as e:  # noqa: BLE001 - a peer failing is a result to record
            failures += 1
            emit({**base, "impl": "torch_sdpa_per_branch", "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
        torch.cuda.empty_cache()
        try:
            kall, vall = torch.cat([ks, kx], 2).contiguous(), torch.cat([vs, vx], 2).contiguous()
            pos = torch.arange(T + n, device="cuda")
            b = torch.tensor(bps, device="cuda")
            mask = (pos[None, :] < b[:, None]) | (pos[None, :] == T + torch.arange(n, device="cuda")[:, None])
            med, best = time_ms(lambda: sdpa_gqa(q, kall, vall, mask), args.warmup, args.iters)
            results["mask"] = sdpa_gqa(q, kall, vall, mask).float()
            emit({**base, "impl": "torch_sdpa_mask_batch", "status": "ok", "ms_median": med, "ms_min": best})
        except torch.cuda.OutOfMemoryError:
            emit({**base, "impl": "torch_sdpa_mask_batch", "status": "oom"})
        except Exception as e:  # noqa: BLE001
            failures += 1
            emit({**base, "impl": "torch_sdpa_mask_batch", "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
        if "per" in results and "mask" in results:
            err = (results["per"] - results["mask"]).abs().max().item()
            if not err <= 2e-2:
                failures += 1
                emit({**base, "impl": "torch_sdpa_mask_batch", "status": "error",
                      "error": f"disagrees with torch_sdpa_per_branch: max abs diff {err}"})
        del q, ks, vs, kx, vx, results
        torch.cuda.empty_cache()
    recorder.out.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
