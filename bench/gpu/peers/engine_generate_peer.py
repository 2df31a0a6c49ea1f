#!/usr/bin/env python3
"""transformers' `generate` on the GPU as the rollout engine's peer for mask mining's branch workload.

bench/native/bench_engine_branches (run first, in run.sh's bench stage) writes each model it ran as a
Hugging Face checkpoint with the workload under $LP_BENCH_WORK/engine-branches/<shape>/: config.json,
model.safetensors, traj.txt, branches.txt ("point forced") and the engine's outputs-<impl>.txt. Here the
same prompts (traj[:point] + [forced]) go through model.generate, greedy, max_new tokens each with no
EOS (eos_token_id None: exactly the engine's work), in batches of --batch left-padded prompts (what a
user of generate does), in fp32 and in bf16. Records tok/s and how many branches equal the engine's
outputs of the same dtype (fp32: equal unless a near-tie flips; bf16: rounding differs by design).

Appends JSON lines ("bench":"engine_branches", impl hf_generate_fp32 / hf_generate_bf16) to --jsonl.
Exit 77 when torch has no GPU or transformers is missing. --device cpu runs it on the CPU (to check it
on a machine without a GPU).
"""
import argparse
import copy
import json
import os
import sys
import time


def read_ids(path):
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jsonl", required=True)
    ap.add_argument("--deadline-s", type=float, default=1e9)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--work", default=os.environ.get("LP_BENCH_WORK", "."))
    args = ap.parse_args()
    deadline = time.time() + args.deadline_s
    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(f"SKIP: transformers/torch not importable here: {e}")
        return 77
    if args.device == "cuda" and not torch.cuda.is_available():
        print("SKIP: torch sees no GPU")
        return 77
    root = os.path.join(args.work, "engine-branches")
    shapes = sorted(d for d in os.listdir(root)) if os.path.isdir(root) else []
    shapes = [s for s in shapes if os.path.exists(os.path.join(root, s, "branches.txt"))]
    if not shapes:
        print(f"SKIP: no engine-branches workload under {root} (bench_engine_branches did not run)")
        return 77
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    out = open(args.jsonl, "a")

    def emit(rec):
        rec = {"bench": "engine_branches", "device": device_name, "torch": torch.__version__,
               "transformers": transformers.__version__, **rec}
        out.write(json.dumps(rec) + "\n")
        out.flush()
        print(json.dumps(rec), flush=True)

    failed = 0
    for shape in shapes:
        d = os.path.join(root, shape)
        traj = read_ids(os.path.join(d, "traj.txt"))[0]
        branches = read_ids(os.path.join(d, "branches.txt"))
        rows = [traj[:p] + [forced] for p, forced in branches]
        engine_out = {impl: read_ids(os.path.join(d, f"outputs-linchpin_{impl}.txt"))
                      for impl in ("cuda_fp32", "cuda_bf16", "cpu") if os.path.exists(os.path.join(d, f"outputs-linchpin_{impl}.txt"))}
        max_new = len(next(iter(engine_out.values()))[0]) if engine_out else 32
        for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            impl = f"hf_generate_{dtype_name}"
            if time.time() > deadline:
                emit({"impl": impl, "shape": shape, "status": "skipped", "error": "deadline"})
                continue
            try:
                model = AutoModelForCausalLM.from_pretrained(d, dtype=dtype).to(args.device).eval()
                gc = copy.deepcopy(model.generation_config)
                gc.eos_token_id, gc.bos_token_id, gc.pad_token_id = None, None, 0
                gc.do_sample, gc.max_new_tokens = False, max_new
                outputs = []

                def run(subset):
                    width = max(len(r) for r in subset)
                    ids = torch.zeros((len(subset), width), dtype=torch.long)
                    mask = torch.zeros_like(ids)
                    for i, r in enumerate(subset):
                        ids[i, width - len(r):] = torch.tensor(r)
                        mask[i, width - len(r):] = 1
                    g = model.generate(input_ids=ids.to(args.device), attention_mask=mask.to(args.device),
                                       generation_config=gc)
                    return g[:, width:].tolist()

                with torch.inference_mode():
                    run(rows[:4])   # warm-up
                    if args.device == "cuda":
                        torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    for b0 in range(0, len(rows), args.batch):
                        outputs += run(rows[b0:b0 + args.batch])
                        if time.time() > deadline:
                            break
                    if args.device == "cuda":
                        torch.cuda.synchronize()
                    seconds = time.perf_counter() - t0
                tokens = sum(len(o) for o in outputs)
                rec = {"impl": impl, "shape": shape, "status": "ok" if len(outputs) == len(rows) else "partial",
                       "branches": len(outputs), "batch": args.batch, "max_new": max_new, "tokens": tokens,
                       "seconds": round(seconds, 3), "tok_s": round(tokens / seconds, 1)}
                mine = engine_out.get("cuda_" + dtype_name) or (engine_out.get("cpu") if dtype_name == "fp32" else None)
                if mine:
                    rec["identical_to_engine"] = sum(1 for a, b in zip(mine, outputs) if a == b)
                emit(rec)
                del model
                if args.device == "cuda":
                    torch.cuda.empty_cache()
            except Exception as e:   # one failure (e.g. out of memory) is recorded; the rest still runs
                failed += 1
                emit({"impl": impl, "shape": shape, "status": "error", "error": f"{type(e).__name__}: {e}"[:300]})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
