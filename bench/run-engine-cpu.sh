#!/usr/bin/env bash
# CPU benchmark of branch rollouts: the rollout engine (shared prefill + staircase
# attention + continuous batching) vs each branch re-prefilling its prefix, T=256, k=2, all
# positions branched, greedy, MAX_NEW tokens per branch. Writes bench/results/<date>-engine-cpu.jsonl.
# Usage: bench/run-engine-cpu.sh   (env: T, MAX_NEW, THREADS, MAX_BATCH)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1

mvn -B -q -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-engine-cpu.jsonl
mkdir -p bench/results
java -cp "$CP" dev.linchpin.bench.EngineBranchBenchmark "${T:-256}" "${MAX_NEW:-32}" "${THREADS:-1}" "${MAX_BATCH:-64}" \
  | tail -1 | tee -a "$out"
