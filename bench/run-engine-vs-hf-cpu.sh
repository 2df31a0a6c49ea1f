#!/usr/bin/env bash
# The CPU engine against Hugging Face transformers `generate` (what a user would run instead), side by
# side in one run, same checkpoints, same token ids, plus the machine's ceilings (memory read
# bandwidth, a large sgemm). Goals (issue "Mask mining ready for GPU servers", section 5):
#   small  mask mining's branch workload (T=256, k=2 at every position, 32 new tokens, 4-layer d=256
#          Llama): engine >= 1.6x from 1 to 2 threads, and >= 4x HF batched generate at 2 threads;
#   qwen   evaluation decoding at the Qwen3-0.6B shape (QWEN_DIR: 4 questions x (greedy + 4 samples at
#          T=0.6, top-p 0.95), 64 new tokens, 2 threads): engine >= 2x HF generate.
# No EOS on either side (every sequence generates exactly its budget). Greedy outputs are compared
# token for token (same weights, fp32 both: they agree unless a near-tie flips).
#
#   bench/run-engine-vs-hf-cpu.sh [small|qwen|all]     (default all)
#   env: PY (a python with bench/requirements-hf-peers.txt; default /work/venv/bin/python),
#        QWEN_DIR (default /work/models/qwen3-0.6b-random, made by bench/make_qwen3_06b.py)
# Writes bench/results/<date>-engine-vs-hf-cpu.jsonl (every record, with CPU model and load) and
# prints a table with the ratios and goals. Records the load before and after: rerun on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT="${1:-all}"
PY="${PY:-/work/venv/bin/python}"
QWEN_DIR="${QWEN_DIR:-/work/models/qwen3-0.6b-random}"
WORK=target/bench-hf
mkdir -p "$WORK" bench/results
export OPENBLAS_NUM_THREADS=1

"$PY" -c 'import torch, transformers, tokenizers' 2>/dev/null || {
  echo "run-engine-vs-hf-cpu.sh: $PY lacks torch/transformers/tokenizers (see bench/requirements-hf-peers.txt)" >&2; exit 2; }
mvn -B -q -o -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
engine() { java -Xmx12g -cp "$CP" dev.linchpin.bench.HfCheckpointBenchmark "$@" | grep '^{'; }
peer() { "$PY" bench/hf_peers.py "$@" 2>/dev/null | grep '^{'; }

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-engine-vs-hf-cpu.jsonl
raw="$WORK/run.jsonl"
: > "$raw"
meta="{\"bench\":\"machine\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\",\"cores\":$(nproc),\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"date\":\"$(date -u +%FT%TZ)\",\"commit\":\"$(git rev-parse --short HEAD)\"}"
echo "$meta" >> "$raw"

peer ceiling --threads 1 >> "$raw"
peer ceiling --threads 2 >> "$raw"

if [[ "$WHAT" == small || "$WHAT" == all ]]; then
  [[ -f "$WORK/small/model.safetensors" ]] || peer make-small "$WORK/small" > /dev/null
  engine branches "$WORK/small" "$WORK/small-run" 256 32 2 64 1 2 >> "$raw"
  peer branches "$WORK/small" "$WORK/small-run" --threads 1,2 --max-new 32 >> "$raw"
fi
if [[ "$WHAT" == qwen || "$WHAT" == all ]]; then
  [[ -f "$QWEN_DIR/model.safetensors" ]] || { echo "no checkpoint at $QWEN_DIR (bench/make_qwen3_06b.py makes one)" >&2; exit 2; }
  peer prompts "$QWEN_DIR" "$WORK/qwen-run" 4 > /dev/null
  echo "{\"bench\":\"checkpoint\",\"dir\":\"$QWEN_DIR\",\"bytes\":$(stat -c %s "$QWEN_DIR/model.safetensors")}" >> "$raw"
  engine eval "$QWEN_DIR" "$WORK/qwen-run" 64 4 0.6 0.95 2 >> "$raw"
  peer eval "$QWEN_DIR" "$WORK/qwen-run" --threads 2 --samples 4 --max-new 64 >> "$raw"
fi
echo "{\"bench\":\"machine\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$raw"
cat "$raw" >> "$out"

"$PY" - "$raw" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def find(**kw):
    return next((r for r in recs if all(r.get(k) == v for k, v in kw.items())), None)
m = recs[0]
print(f"machine: {m['cpu']}, {m['cores']} cores, load {m['load_before']} -> {recs[-1]['load_after']}, commit {m['commit']}")
for t in (1, 2):
    bw, mm = find(impl="memory_read", threads=t), find(impl="sgemm_2048", threads=t)
    if bw: print(f"ceiling, {t} thread(s): memory read {bw['gb_s']} GB/s, sgemm 2048^3 {mm['gflop_s']} GFLOP/s")
e1, e2 = find(bench="branches", impl="linchpin_engine", threads=1), find(bench="branches", impl="linchpin_engine", threads=2)
h1, h2 = find(bench="branches", impl="hf_generate", threads=1), find(bench="branches", impl="hf_generate", threads=2)
if e1 and e2 and h1 and h2:
    print("small shape, branch rollouts (512 branches x 32 tokens):")
    print(f"  engine  1 thread {e1['tok_s']:8.1f} tok/s   2 threads {e2['tok_s']:8.1f} tok/s   scaling {e2['tok_s']/e1['tok_s']:.2f}x (goal >= 1.6x)")
    print(f"  HF      1 thread {h1['tok_s']:8.1f} tok/s   2 threads {h2['tok_s']:8.1f} tok/s   (identical outputs {h2['identical_to_engine']}/{h2['branches']})")
    print(f"  engine / HF: 1 thread {e1['tok_s']/h1['tok_s']:.2f}x, 2 threads {e2['tok_s']/h2['tok_s']:.2f}x (goal >= 4x at 2 threads)")
ee, he = find(bench="eval", impl="linchpin_engine"), find(bench="eval", impl="hf_generate")
if ee and he:
    bw, ck = find(impl="memory_read", threads=2), find(bench="checkpoint")
    # Decoding reads every weight once per step; a greedy run and a sampled run of max_new steps each.
    ceiling = ee["tokens"] / (2 * ee["max_new"] * ck["bytes"] / (bw["gb_s"] * 1e9)) if bw and ck else None
    print(f"Qwen3-0.6B shape, eval decoding ({ee['prompts']} prompts x (greedy + {ee['samples']} samples), {ee['max_new']} tokens, 2 threads):")
    print(f"  engine {ee['tok_s']:.2f} tok/s ({ee['seconds']} s, peak RSS {ee['max_rss_mb']} MB)   HF {he['tok_s']:.2f} tok/s ({he['seconds']} s, peak RSS {he['max_rss_mb']} MB)")
    print(f"  engine / HF {ee['tok_s']/he['tok_s']:.2f}x (goal >= 2x); greedy identical {he['greedy_identical_to_engine']}/{ee['prompts']}")
    if ceiling: print(f"  memory-bandwidth ceiling (weights read once per step at the measured read bandwidth): {ceiling:.1f} tok/s")
PYEOF
echo "records: $out"
