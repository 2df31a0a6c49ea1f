#!/usr/bin/env python3
"""Markdown summary of a demo run's report.json: per objective mean ± std over seeds [95 % interval],
and the paired differences with their intervals and the report's own sentences. Standard library only.

Usage: python3 bench/summarize_demo.py runs/demo/report.json
"""
import json
import sys

if len(sys.argv) != 2:
    sys.exit(__doc__)
r = json.load(open(sys.argv[1]))
x = r["experiment"]
blocks = x["metrics"]
print("| objective | seeds | " + " | ".join(f'{b["dataset"]} {b["metric"]}' for b in blocks) + " |")
print("|---|---|" + "---|" * len(blocks))
for o, g in x["objectives"].items():
    cells = []
    for b in blocks:
        v = b["objectives"].get(o)
        cells.append("–" if v is None else
                     f'{100 * v["mean"]:.1f} ± {100 * v["std_over_seeds"]:.1f} [{100 * v["ci95_lo"]:.1f}, {100 * v["ci95_hi"]:.1f}]')
    print(f'| {o} | {len(g["seeds"]) or "–"} | ' + " | ".join(cells) + " |")
print()
print("| comparison | data set | metric | difference (points) | 95 % interval |")
print("|---|---|---|---|---|")
for d in x["differences"]:
    print(f'| {d["a"]} − {d["b"]} | {d["dataset"]} | {d["metric"]} | {100 * d["mean"]:+.1f} | '
          f'[{100 * d["ci95_lo"]:.1f}, {100 * d["ci95_hi"]:.1f}] |')
print()
for d in x["differences"]:
    if (d["a"], d["b"]) in (("cft", "sft"), ("cft", "entropy"), ("sftkey", "sft")):
        print("- " + d["sentence"])
if "entropy_overlap" in x:
    o = x["entropy_overlap"]
    print(f'- Overlap: {100 * o["critical_also_high_entropy"]:.1f} % of critical tokens are top-entropy tokens '
          f'({100 * o["chance_fraction"]:.1f} % by chance), Jaccard {o["jaccard"]:.3f}, over {o["responses"]} responses.')
if "lr_choice" in x:
    c = x["lr_choice"]
    print("- Learning rate: " + ", ".join(f'{a["lr"]} → {100 * a["val_greedy_accuracy"]:.1f} %' for a in c["candidates"])
          + f' on validation; chosen {c["chosen"]} ({c["steps"]} steps).')
