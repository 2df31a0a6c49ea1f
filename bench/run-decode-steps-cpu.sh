#!/usr/bin/env bash
# CPU benchmark: is a decode step's cost linear in the generated length? Time of one decode step of B
# branches of a T-token trajectory at step 10 and at step 200 (goal: step 200 within 1.3x of step 10
# at T = 1024). dev.linchpin.bench.DecodeStepBenchmark; appends one JSON line (with the machine's
# CPU model and load) to bench/results/<date>-decode-steps-cpu.jsonl.
# Usage: bench/run-decode-steps-cpu.sh   (env: T=1024, BRANCHES=16, THREADS=1, REPS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1

mvn -B -q -o -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-decode-steps-cpu.jsonl
mkdir -p bench/results
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
line="$(java -cp "$CP" dev.linchpin.bench.DecodeStepBenchmark "${T:-1024}" "${BRANCHES:-16}" "${THREADS:-1}" "${REPS:-5}" | tail -1)"
echo "${line%\}},\"cpu\":\"$cpu\",\"load_before\":\"$load\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"date\":\"$(date -u +%FT%TZ)\"}" \
  | tee -a "$out"
