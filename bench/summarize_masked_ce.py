#!/usr/bin/env python3
"""Turns one run of bench/run-masked-ce-cpu.sh (PREFIX.peers.jsonl, PREFIX.jmh-<round>.json,
PREFIX.memory.jsonl, PREFIX.meta.jsonl) into a markdown table: per density and implementation the
median ms over rounds (min-max of the round medians), peak extra memory, % of the three-GEMM ceiling,
and the goals. Every number comes from the same run on the same machine.

  python3 bench/summarize_masked_ce.py PREFIX > PREFIX.md
"""
import glob
import json
import statistics
import sys

prefix = sys.argv[1]


def jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


meta = jsonl(prefix + ".meta.jsonl")
peers = [r for r in jsonl(prefix + ".peers.jsonl") if r.get("bench") == "masked_linear_ce"]
memory = jsonl(prefix + ".memory.jsonl")
jmh = []
for path in sorted(glob.glob(prefix + ".jmh-*.json")):
    with open(path) as f:
        jmh += json.load(f)

# (impl, density) -> list of per-round medians (ms); peak extra MB per cell
times, peak, notes = {}, {}, {}
for r in peers:
    key = (r["impl"], round(float(r["density"]), 4))
    if r.get("status") == "ok":
        times.setdefault(key, []).append(r["ms_median"])
        if r.get("peak_extra_mb") is not None:
            peak[key] = max(peak.get(key, 0.0), r["peak_extra_mb"])
    else:
        notes[key] = f"{r.get('status')}: {r.get('error', '')}"[:120]
JMH_NAMES = {"fused": "linchpin_fused", "eager": "libtorch_java_eager", "compact": "libtorch_java_compact_first",
             "gemms": "gemm3_openblas", "gemmsmt": "gemm3_openblas_mt"}
for r in jmh:
    p = r["params"]
    key = (JMH_NAMES.get(p["variant"], p["variant"]), round(float(p["density"]), 4))
    times.setdefault(key, []).append(statistics.median(r["primaryMetric"]["rawData"][0]))
for m in memory:
    peak[(JMH_NAMES.get(m["variant"], m["variant"]), round(float(m["density"]), 4))] = m["peak_extra_mb"]

ORDER = ["linchpin_fused", "torch_eager", "torch_compact_first", "torch_compile", "torch_compile_compact_first",
         "libtorch_java_eager", "libtorch_java_compact_first", "gemm3_openblas", "gemm3_openblas_mt", "gemm3_torch",
         "gemm3_onednn"]
LABEL = {
    "linchpin_fused": "**Linchpin fused** (OpenBLAS 0.3.31)",
    "torch_eager": "PyTorch eager, full logits",
    "torch_compact_first": "PyTorch compact-first",
    "torch_compile": "torch.compile(eager)",
    "torch_compile_compact_first": "torch.compile(compact-first)",
    "libtorch_java_eager": "libtorch from Java, eager (diagnostic)",
    "libtorch_java_compact_first": "libtorch from Java, compact-first (diagnostic)",
    "gemm3_openblas": "3-GEMM ceiling, OpenBLAS 0.3.31, split as the kernel does",
    "gemm3_openblas_mt": "3-GEMM ceiling, OpenBLAS 0.3.31, threaded by OpenBLAS",
    "gemm3_torch": "3-GEMM ceiling, MKL (PyTorch)",
    "gemm3_onednn": "3-GEMM ceiling, oneDNN (PyTorch)",
}


def med(key):
    v = times.get(key)
    return statistics.median(v) if v else None


def fmt(x, d=1):
    return "—" if x is None else f"{x:.{d}f}"


first = meta[0] if meta else {}
loads = ", ".join(f"{m['phase']} {m['loadavg']}" for m in meta)
rounds = max((len(v) for v in times.values()), default=0)
print("# Masked linear cross-entropy, CPU, fwd+bwd (N=4096, D=512, V=32000, fp32)\n")
print(f"Date: {first.get('utc', '?')[:10]}. Command: `bench/run-masked-ce-cpu.sh` (ROUNDS={first.get('rounds', 1)}); "
      f"raw data in the `.peers.jsonl`, `.jmh-*.json`, `.memory.jsonl` and `.meta.jsonl` files beside this one.  ")
print(f"Machine: {first.get('cpu', '?')}, {first.get('nproc', '?')} vCPU; every implementation on "
      f"{first.get('threads', '?')} threads (PyTorch: torch.set_num_threads; Linchpin: its row pass and OpenBLAS).  ")
print(f"Load (1/5/15-min loadavg at each phase): {loads}.  ")
if first.get("settings"):
    print(f"Settings: {first['settings']}.  ")
pw = next((f"{r['warmup']} warm-up + {r['iters']} timed steps" for r in peers if "iters" in r), "?")
jw = next((f"{r['warmupIterations']} warm-up + {r['measurementIterations']} measured" for r in jmh), "?")
print(f"ms: median of each round's median (PyTorch peers: a first call, then {pw}; JMH: SingleShotTime, "
      f"{jw}, 1 fork), with the range of the round medians when ROUNDS > 1. "
      "Peak extra MB: resident-set peak over one step above the resident set before it, after a first step "
      "(gradient buffers exist, as in training): VmHWM via /proc/self/clear_refs, the same for PyTorch and the JVM. "
      "% of ceiling: the fastest of the three libraries' three-GEMM time at that density (the GEMMs of the "
      "compacted rows alone) divided by the cell's time.\n")
print("| density | implementation | ms | peak extra MB | % of 3-GEMM ceiling | eager / this | compile(compact) / this |")
print("|---|---|---|---|---|---|---|")
densities = sorted({k[1] for k in times} | {k[1] for k in notes}, reverse=True)
goals = []
for dens in densities:
    ceil_candidates = [med((c, dens)) for c in ("gemm3_openblas", "gemm3_openblas_mt", "gemm3_torch", "gemm3_onednn")]
    ceiling = min((c for c in ceil_candidates if c), default=None)
    eager = med(("torch_eager", dens))
    ccomp = med(("torch_compile_compact_first", dens))
    for impl in ORDER:
        key = (impl, dens)
        t = med(key)
        if t is None and key not in notes:
            continue
        if t is None:
            print(f"| {dens:.0%} | {LABEL.get(impl, impl)} | {notes[key]} | | | | |")
            continue
        spread = times[key]
        ms = fmt(t) + (f" ({min(spread):.0f}–{max(spread):.0f})" if len(spread) > 1 else "")
        is_gemm = impl.startswith("gemm3")
        print(f"| {dens:.0%} | {LABEL.get(impl, impl)} | {ms} | {fmt(peak.get(key)) if not is_gemm else ''} | "
              f"{fmt(100 * ceiling / t, 0) + ' %' if ceiling else '—'} | "
              f"{'' if is_gemm else fmt(eager / t, 2) + 'x' if eager else '—'} | "
              f"{'' if is_gemm else fmt(ccomp / t, 2) + 'x' if ccomp else '—'} |")
    ours = med(("linchpin_fused", dens))
    if ours is None:
        continue
    ob = min((x for x in (med(("gemm3_openblas", dens)), med(("gemm3_openblas_mt", dens))) if x), default=None)

    def verdict(ok):
        return "**met**" if ok else "**missed**"
    if abs(dens - 0.12) < 1e-9:
        cpeak, opeak = peak.get(("torch_compact_first", dens)), peak.get(("linchpin_fused", dens))
        if ccomp:
            goals.append(f"12 %: at least as fast as torch.compile(compact-first): {ours:.0f} vs {ccomp:.0f} ms, "
                         f"{verdict(ours <= ccomp)}")
        if ob:
            goals.append(f"12 %: within 1.25x of the three-GEMM ceiling (same OpenBLAS): {ours / ob:.2f}x, "
                         f"{verdict(ours <= 1.25 * ob)}")
        if cpeak and opeak is not None:
            goals.append(f"12 %: extra memory ≤ 1/4 of PyTorch compact-first's: {opeak:.0f} vs {cpeak:.0f} MB "
                         f"({opeak / cpeak:.2f}), {verdict(opeak <= cpeak / 4)}")
    if abs(dens - 0.05) < 1e-9 and ccomp:
        goals.append(f"5 %: at least as fast as torch.compile(compact-first): {ours:.0f} vs {ccomp:.0f} ms, "
                     f"{verdict(ours <= ccomp)}")
    if abs(dens - 1.0) < 1e-9 and eager:
        goals.append(f"100 %: at least as fast as PyTorch eager: {ours:.0f} vs {eager:.0f} ms, {verdict(ours <= eager)}")
if goals:
    print("\nGoals (measured in this run):\n")
    for g in goals:
        print(f"- {g}")
def loss_ranges(recs):
    out = {}
    for r in recs:
        if r.get("status", "ok") == "ok" and r.get("loss") is not None:
            out.setdefault(round(float(r["density"]), 4), []).append(r["loss"])
    return "; ".join(f"{d:.0%}: {min(v):.5f}–{max(v):.5f}" for d, v in sorted(out.items(), reverse=True))


if peers or memory:
    print("\nLoss agreement (inputs are drawn separately in Python and in Java, so compare within a line): "
          f"PyTorch peers {loss_ranges(peers) or '—'}; Java fused/eager/compact {loss_ranges(memory) or '—'}.")
