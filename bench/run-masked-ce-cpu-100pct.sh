#!/usr/bin/env bash
# The 100 % cell of the CPU masked-CE comparison alone (N=4096, D=512, V=32000, fp32, fwd+bwd, 2 threads),
# for a quiet machine when the full bench/run-masked-ce-cpu.sh does not fit: PyTorch eager, compact-first
# and torch.compile(compact-first) from pip, then Linchpin fused (default chunk budget and 128 MiB) and the
# OpenBLAS three-GEMM time (JMH variant gemms), alternated ROUNDS times (default 2).
# Writes bench/results/<date>-masked-ce-cpu-100pct-quiet.{peers.jsonl,jmh-R.json,jmhg-R.json,meta.jsonl}.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
PY="${PYTHON:-/work/venv/bin/python}"
mvn -B -q -o -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
out=bench/results/$(date -u +%Y-%m-%d)-masked-ce-cpu-100pct-quiet
mkdir -p bench/results
rm -f "$out".*
for r in $(seq 1 "${ROUNDS:-2}"); do
  echo "{\"round\":$r,\"utc\":\"$(date -u +%FT%TZ)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\"}" >> "$out.meta.jsonl"
  "$PY" bench/gpu/peers/masked_ce_peers.py --device cpu --threads 2 --warmup 2 --iters 5 \
    --config 4096,512,32000,1.0 --impls torch_eager,torch_compact_first,torch_compile_compact_first --jsonl "$out.peers.jsonl" | cut -c1-200
  java -cp "$CP" org.openjdk.jmh.Main MaskedCeBenchmark -p threads=2 -p density=1.0 -p variant=fused -p chunkBytes=0,134217728 \
    -rf json -rff "$out.jmh-$r.json" | grep -E '^(Benchmark|MaskedCeBenchmark)'
  java -cp "$CP" org.openjdk.jmh.Main MaskedCeBenchmark -p threads=2 -p density=1.0 -p variant=gemms \
    -rf json -rff "$out.jmhg-$r.json" | grep -E '^(Benchmark|MaskedCeBenchmark)'
done
echo "{\"end\":\"$(date -u +%FT%TZ)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$out.meta.jsonl"
