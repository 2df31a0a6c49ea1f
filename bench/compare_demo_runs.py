#!/usr/bin/env python3
"""Compare two `linchpin demo` run directories for the same numbers and bytes.

Usage: python3 bench/compare_demo_runs.py RUN_A RUN_B      (e.g. runs/quick from two checkouts)

Checks what must not change when code is refactored: every eval JSON (wall times, the model path and
the data file paths left out), every trained model's final/model.safetensors (SHA-256), every
metrics.jsonl (tokens_per_s left out: a wall-time rate), masks.jsonl, the mined questions, and the
settings and objectives of demo.json. Prints one line per item and ALL IDENTICAL or SOMETHING DIFFERS
(exit status 0 or 1). Standard library only.
"""
import hashlib
import json
import sys

A, B = sys.argv[1:3] if len(sys.argv) == 3 else (None, None)
def sha(p): return hashlib.sha256(open(p,'rb').read()).hexdigest()
def strip_eval(d):
    d=json.loads(json.dumps(d)); d.pop('timing',None); d.pop('model',None)
    for ds in d.get('datasets',[]): ds.pop('file',None)
    return d
if len(sys.argv) != 3: sys.exit(__doc__)
ok=True
objectives=json.load(open(f'{A}/demo.json'))['objectives']
for m in ['base']+objectives:
    a=json.load(open(f'{A}/eval/{m}.json')); b=json.load(open(f'{B}/eval/{m}.json'))
    same=strip_eval(a)==strip_eval(b); ok&=same
    print(f'eval/{m}.json (without timing and paths): {"identical" if same else "DIFFERENT"}',
          'greedy accuracy per split', [d['greedy_accuracy'] for d in a['datasets']], [d['greedy_accuracy'] for d in b['datasets']])
for o in objectives:
    sa,sb=sha(f'{A}/train/{o}/final/model.safetensors'),sha(f'{B}/train/{o}/final/model.safetensors'); ok&=sa==sb
    la=[json.loads(l) for l in open(f'{A}/train/{o}/metrics.jsonl')]; lb=[json.loads(l) for l in open(f'{B}/train/{o}/metrics.jsonl')]
    for x in la+lb: x.pop('tokens_per_s')
    ok&=la==lb
    print(f'train/{o}: final/model.safetensors sha256 {sa[:16]} vs {sb[:16]}: {"identical" if sa==sb else "DIFFERENT"}; metrics.jsonl without tokens_per_s {"identical" if la==lb else "DIFFERENT"}')
for f in ['masks.jsonl','entropy-masks.jsonl','lr.json','data/mine.jsonl','data/val.jsonl','data/test.jsonl','data/ood.jsonl']:
    s=sha(f'{A}/{f}')==sha(f'{B}/{f}'); ok&=s; print(f, 'identical' if s else 'DIFFERENT')
ma=json.load(open(f'{A}/demo.json')); mb=json.load(open(f'{B}/demo.json'))
s=ma['settings']==mb['settings'] and ma['objectives']==mb['objectives']; ok&=s; print('demo.json settings+objectives', 'identical' if s else 'DIFFERENT')
print('ALL IDENTICAL' if ok else 'SOMETHING DIFFERS')
sys.exit(0 if ok else 1)
