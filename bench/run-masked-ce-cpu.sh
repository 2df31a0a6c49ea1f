#!/usr/bin/env bash
# The fused masked linear cross-entropy on the CPU against what users run instead, fwd+bwd, N=4096,
# D=512, V=32000, fp32, density 100/12/5 %, THREADS threads (default 2), back to back in one run:
#   1. the PyTorch peers from pip (bench/gpu/peers/masked_ce_peers.py --device cpu): eager with full
#      logits, compact-first, torch.compile of both, and the three-GEMM ceiling in PyTorch's own BLAS
#      (MKL) and in oneDNN;
#   2. JMH MaskedCeBenchmark: Linchpin's fused kernel, libtorch from Java (eager, compact: diagnostics)
#      and the three-GEMM ceiling in the kernel's own OpenBLAS, same shapes and threads (variants gemms:
#      split over threads as the kernel does; gemmsmt: threaded by OpenBLAS);
#   3. the peak extra memory of fused / eager / compact (MaskedCeMemoryProbe, one JVM per cell).
# ROUNDS=n (default 1) repeats 1 and 2 alternately; the summary takes each cell's median over rounds.
# On a loaded machine, shorter (what the 2026-11-26 result used):
#   PEER_WARMUP=0 PEER_ITERS=3 PROBES=fused \
#   PEER_IMPLS=torch_eager,torch_compact_first,torch_compile_compact_first \
#   PEER_IMPLS_SPARSE=torch_compact_first,torch_compile_compact_first,gemm3_torch,gemm3_onednn \
#   bench/run-masked-ce-cpu.sh -p variant=fused,gemms,gemmsmt -wi 1 -i 3
#   (no torch.compile of the full-logit code, no eager below 100 %, no libtorch-from-Java diagnostics).
# Writes bench/results/<date>-masked-ce-cpu.{peers.jsonl,jmh*.json,memory.jsonl,meta.jsonl,md}: ms,
# peak memory and % of the three-GEMM ceiling per cell, the CPU model and the load (uptime) of each phase.
#
#   bench/run-masked-ce-cpu.sh [extra JMH args]      (MVN_ARGS="-o" etc. go to the Maven build step)
#
# Python: PYTHON (default /work/venv/bin/python if present, else python3) must import torch 2.13 CPU;
# make such a venv with: python3 -m venv .venv-peers && .venv-peers/bin/pip install -r bench/requirements-peers-cpu.txt
# (without torch the peers are skipped and the summary says so).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
PEER_WARMUP=${PEER_WARMUP:-2}
PEER_ITERS=${PEER_ITERS:-5}
PROBES=${PROBES:-fused eager compact}   # MaskedCeMemoryProbe variants
PEER_IMPLS=${PEER_IMPLS:-}                # comma-separated subset of the peers (default: all)
PEER_IMPLS_SPARSE=${PEER_IMPLS_SPARSE:-$PEER_IMPLS}   # ... at densities 12 % and 5 %
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /work/venv/bin/python ]]; then PYTHON=/work/venv/bin/python; else PYTHON=python3; fi
fi

mvn -B -q -DskipTests ${MVN_ARGS:-} test-compile
mvn -B -q ${MVN_ARGS:-} dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-masked-ce-cpu
mkdir -p bench/results
rm -f "$out".peers.jsonl "$out".jmh-*.json "$out".memory.jsonl "$out".meta.jsonl

meta() {  # phase: one JSON line with the time, the load and what ran
  printf '{"phase":"%s","utc":"%s","loadavg":"%s","cpu":"%s","nproc":%s,"threads":%s,"command":"bench/run-masked-ce-cpu.sh","rounds":%s,"settings":"%s"}\n' \
    "$1" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" "$THREADS" "$ROUNDS" \
    "PEER_WARMUP=$PEER_WARMUP PEER_ITERS=$PEER_ITERS PROBES=$PROBES PEER_IMPLS=$PEER_IMPLS PEER_IMPLS_SPARSE=$PEER_IMPLS_SPARSE JMH: $JMH_ARGS" >> "$out.meta.jsonl"
}

JMH_ARGS="$*"
peers_ok=1
"$PYTHON" -c 'import torch' 2>/dev/null || {
  peers_ok=0
  echo "run-masked-ce-cpu: $PYTHON cannot import torch: PyTorch peers skipped (see bench/requirements-peers-cpu.txt)" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  if [[ $peers_ok == 1 ]]; then
    meta "peers-$round-start"
    for density in 1.0 0.12 0.05; do
      impls=$PEER_IMPLS
      [[ $density == 1.0 ]] || impls=$PEER_IMPLS_SPARSE
      "$PYTHON" bench/gpu/peers/masked_ce_peers.py --device cpu --threads "$THREADS" --warmup "$PEER_WARMUP" \
        --iters "$PEER_ITERS" --config "4096,512,32000,$density" ${impls:+--impls "$impls"} --jsonl "$out.peers.jsonl" \
        | cut -c1-240
    done
  fi
  meta "jmh-$round-start"
  java -cp "$CP" org.openjdk.jmh.Main MaskedCeBenchmark -p threads="$THREADS" -rf json -rff "$out.jmh-$round.json" "$@" \
    | tee "$out.jmh-$round.txt" | grep -E '^(Benchmark|MaskedCeBenchmark)' || true
done

meta "memory-start"
for density in 1.0 0.12 0.05; do
  for variant in $PROBES; do
    java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "$CP" dev.linchpin.bench.MaskedCeMemoryProbe "$variant" "$density" 4096 512 32000 "$THREADS" \
      | tail -1 | tee -a "$out.memory.jsonl"
  done
done
meta "end"

"$PYTHON" bench/summarize_masked_ce.py "$out" > "$out.md" 2>/dev/null || python3 bench/summarize_masked_ce.py "$out" > "$out.md"
cat "$out.md"
