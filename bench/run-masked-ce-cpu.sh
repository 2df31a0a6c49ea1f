#!/usr/bin/env bash
# CPU benchmark of the fused masked linear cross-entropy vs libtorch eager and compact-first
# (fwd+bwd, N=4096, D=512, V=32000, density 100/12/5 %), plus peak extra memory per variant.
# Writes bench/results/<date>-masked-ce-cpu.{json,md}. Usage: bench/run-masked-ce-cpu.sh [extra JMH args]
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
THREADS=${THREADS:-2}

mvn -B -q -DskipTests test-compile
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-masked-ce-cpu
mkdir -p bench/results
java -cp "$CP" org.openjdk.jmh.Main MaskedCeBenchmark -p threads="$THREADS" -rf json -rff "$out.jmh.json" "$@" | tee "$out.jmh.txt"

: > "$out.memory.jsonl"
for density in 1.0 0.12 0.05; do
  for variant in fused eager compact; do
    java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "$CP" dev.linchpin.bench.MaskedCeMemoryProbe "$variant" "$density" 4096 512 32000 "$THREADS" \
      | tail -1 | tee -a "$out.memory.jsonl"
  done
done

python3 bench/summarize_masked_ce.py "$out" "$THREADS" > "$out.md"
cat "$out.md"
