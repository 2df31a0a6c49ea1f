#!/usr/bin/env bash
# CPU benchmark of end-to-end mask mining: examples/min and branch tokens/s of
# `linchpin mine`'s MiningRun on synthetic-task questions (see MiningBenchmark for the model).
# Writes bench/results/<date>-mining-cpu.jsonl.
# Usage: bench/run-mining-cpu.sh   (env: EXAMPLES, MAX_NEW, THREADS, BATCH, MAX_BRANCHES)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1

mvn -B -q -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-mining-cpu.jsonl
mkdir -p bench/results
java -cp "$CP" dev.linchpin.bench.MiningBenchmark "${EXAMPLES:-16}" "${MAX_NEW:-64}" "${THREADS:-1}" "${BATCH:-8}" "${MAX_BRANCHES:-64}" \
  | tail -1 | tee -a "$out"
