#!/usr/bin/env bash
# Mining throughput on the embedded default: `linchpin mine` with the paper's settings
# (k = 2, greedy continuations) on the first EXAMPLES questions of the default's test split.
# Trains the default first if it is not cached (~5 min). Writes bench/results/<date>-mining-default-cpu.md.
# Usage: bench/run-mining-default-cpu.sh   (env: EXAMPLES=50 THREADS=2 BATCH=8)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
EXAMPLES=${EXAMPLES:-50}; THREADS=${THREADS:-2}; BATCH=${BATCH:-8}

mvn -B -q -Dlinchpin.cuda=OFF -DskipTests compile
mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/run.classpath
CP="target/classes:$(cat target/run.classpath)"

model=$(java -cp "$CP" dev.linchpin.cli.Main default standard --progress log | sed -n 's/^\(trained\|cached\) //p')
work=$(mktemp -d)
head -n "$EXAMPLES" "$model/data/test.jsonl" > "$work/data.jsonl"
/usr/bin/time -f "%e" -o "$work/wall" java -cp "$CP" dev.linchpin.cli.Main mine --model "$model" --data "$work/data.jsonl" \
  --out "$work/masks.jsonl" --threads "$THREADS" --batch-size "$BATCH" --progress log
summary="$work/masks.jsonl.summary.json"

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-mining-default-cpu.md
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "# Mining on the embedded default, CPU ($stamp)"
  echo
  echo "Command: \`bench/run-mining-default-cpu.sh\` (EXAMPLES=$EXAMPLES THREADS=$THREADS BATCH=$BATCH). Machine: $cpu, $(nproc) cores."
  echo "Model: $model (see training.json there). Settings: k = 2, greedy continuations, every response position incl. EOS."
  echo "Process wall time (JVM start, engine load, mining): $(cat "$work/wall") s."
  echo
  echo '```json'
  cat "$summary"
  echo
  echo '```'
} > "$out"
cat "$out"
