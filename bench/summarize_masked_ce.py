#!/usr/bin/env python3
"""Turns the JMH JSON and the memory probe lines of run-masked-ce-cpu.sh into a markdown table with
ratios (all numbers come from the same run, same machine)."""
import json, platform, subprocess, sys

prefix, threads = sys.argv[1], sys.argv[2]
jmh = json.load(open(prefix + ".jmh.json"))
mem = [json.loads(l) for l in open(prefix + ".memory.jsonl") if l.strip()]

time = {}
for r in jmh:
    p = r["params"]
    m = r["primaryMetric"]
    time[(p["variant"], float(p["density"]))] = (m["score"], m["scoreError"])
peak = {(m["variant"], float(m["density"])): m["peak_extra_mb"] for m in mem}

cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
import datetime
print(f"# Masked linear cross-entropy, CPU, fwd+bwd (N=4096, D=512, V=32000)\n")
print(f"Date: {datetime.date.today().isoformat()}. Command: `bench/run-masked-ce-cpu.sh` (this file, `.jmh.json`, `.memory.jsonl`). ")
print(f"Machine: {cpu}, {threads} threads (libtorch intra-op = fused kernel threads), OPENBLAS_NUM_THREADS=1. ")
print("JMH SingleShotTime, 2 warm-up + 5 measured runs, 1 fork. Peak extra = VmHWM − VmRSS around one call (after a warm-up call, so gradient buffers of h and W already exist, as in a training loop), one JVM per cell, JVM heap pre-touched.\n")
print("| density | variant | ms (± err) | peak extra MB | eager / this | compact / this | this mem / compact mem |")
print("|---|---|---|---|---|---|---|")
for density in sorted({k[1] for k in time}, reverse=True):
    e = time.get(("eager", density), (float("nan"),))[0]
    c = time.get(("compact", density), (float("nan"),))[0]
    cm = peak.get(("compact", density), float("nan"))
    for variant in ("fused", "eager", "compact"):
        if (variant, density) not in time:
            continue
        t, err = time[(variant, density)]
        pm = peak.get((variant, density), float("nan"))
        ratio_mem = pm / cm if cm and cm == cm and cm > 0 else float("nan")
        print(f"| {density:.0%} | {variant} | {t:.1f} ± {err:.1f} | {pm:.1f} | {e / t:.2f}x | {c / t:.2f}x | {ratio_mem:.2f} |")
