#!/usr/bin/env bash
# Mining on Spark in local mode vs one `linchpin mine` process, same model (the embedded default), same
# data (the first EXAMPLES questions of its test split), same cores: `mine --threads 2` (one engine) against
# SparkMining on local[2] with --shards 2 --threads 1 (two tasks, one engine each). Also checks that the
# merged masks file and options file equal those of `mine --threads 1` byte for byte (the engine's thread
# count moves recorded probabilities in their last digit, so that is the like-for-like run), and that the Spark run
# needs no libtorch: it gets the jars the README's spark-submit line passes (runtime minus pytorch and
# slf4j-jdk14) plus Spark's own (the provided scope), as spark-submit would give it.
# Trains the default first if it is not cached (~5 min). Writes bench/results/<date>-spark-mining-cpu.md.
# Usage: bench/run-spark-mining-cpu.sh   (env: EXAMPLES=96 BATCH=8)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
EXAMPLES=${EXAMPLES:-96}; BATCH=${BATCH:-8}

mvn -B -q -ntp -Dlinchpin.cuda=OFF -DskipTests package
mvn -B -q -ntp dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile=target/bench-runtime.txt
mvn -B -q -ntp dependency:build-classpath -DincludeScope=runtime -DexcludeArtifactIds=pytorch,slf4j-jdk14 \
  -Dmdep.outputFile=target/spark-jars.txt
mvn -B -q -ntp dependency:build-classpath -DincludeScope=provided -Dmdep.outputFile=target/bench-spark-provided.txt
jar=$(ls target/linchpin-*.jar | head -1)
if tr ':' '\n' < target/spark-jars.txt | grep -q '/pytorch'; then echo "spark-jars.txt still lists pytorch" >&2; exit 1; fi

model=$(java -cp "$jar:$(cat target/bench-runtime.txt)" dev.linchpin.cli.Main default standard --progress log | sed -n 's/^\(trained\|cached\) //p')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -n "$EXAMPLES" "$model/data/test.jsonl" > "$work/data.jsonl"
common=(--model "$model" --data "$work/data.jsonl" --batch-size "$BATCH")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

java -Xss4m -cp "$jar:$(cat target/bench-runtime.txt)" dev.linchpin.cli.Main mine \
  "${common[@]}" --out "$work/single1/masks.jsonl" --threads 1 --progress log 2> "$work/single1.log"
/usr/bin/time -f "%e" -o "$work/wall-single" java -Xss4m -cp "$jar:$(cat target/bench-runtime.txt)" dev.linchpin.cli.Main mine \
  "${common[@]}" --out "$work/single/masks.jsonl" --threads 2 --progress log 2> "$work/single.log"
/usr/bin/time -f "%e" -o "$work/wall-spark" java -Xss4m -Dspark.master='local[2]' -Dspark.ui.enabled=false \
  -cp "$jar:$(cat target/spark-jars.txt):$(cat target/bench-spark-provided.txt)" dev.linchpin.spark.SparkMining \
  "${common[@]}" --out "$work/spark/masks.jsonl" --shards 2 --threads 1 --checkpoint-seconds 60 2> "$work/spark.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

same_masks=$(cmp -s "$work/single1/masks.jsonl" "$work/spark/masks.jsonl" && echo yes || echo NO)
same_options=$(cmp -s "$work/single1/masks.jsonl.options.json" "$work/spark/masks.jsonl.options.json" && echo yes || echo NO)
same_as_t2=$(cmp -s "$work/single/masks.jsonl" "$work/spark/masks.jsonl" && echo yes || echo no)
blank() { sed -E 's/("(seconds|examples_per_minute|branch_tokens_per_second)" : )[-0-9.Ee]+/\1T/' "$1"; }
same_summary=$(diff -q <(blank "$work/single1/masks.jsonl.summary.json") <(blank "$work/spark/masks.jsonl.summary.json") >/dev/null && echo yes || echo NO)
rate() { sed -n 's/.*"examples_per_minute" : \([0-9.Ee+-]*\).*/\1/p' "$1" | head -1; }
single_rate=$(rate "$work/single/masks.jsonl.summary.json")
spark_rate=$(rate "$work/spark/masks.jsonl.summary.json")

stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp-spark-mining-cpu.md
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "# Mining on Spark local[2] vs one \`linchpin mine\` process, CPU ($stamp)"
  echo
  echo "Command: \`bench/run-spark-mining-cpu.sh\` (EXAMPLES=$EXAMPLES BATCH=$BATCH). Machine: $cpu, $(nproc) cores;"
  echo "load average before $load_before, after $load_after (a shared machine: compare the ratio, not the absolute rates)."
  echo "Model: the embedded default ($model). Settings: k = 2, greedy continuations, every position incl. EOS."
  echo
  echo "| run | examples/min (summary: mining, excl. JVM start) | process wall time |"
  echo "|---|---|---|"
  echo "| \`mine --threads 2\` (one engine) | $single_rate | $(cat "$work/wall-single") s |"
  echo "| SparkMining local[2], \`--shards 2 --threads 1\` (two engines; summary times the job from start to merge) | $spark_rate | $(cat "$work/wall-spark") s |"
  echo
  echo "Ratio Spark/single (examples/min): $(awk -v a="$spark_rate" -v b="$single_rate" 'BEGIN { printf "%.2f", a / b }')."
  echo "Merged masks file equals \`mine --threads 1\`'s byte for byte: $same_masks; options file: $same_options;"
  echo "summary but for the three timing values: $same_summary. Equal to \`mine --threads 2\`'s masks: $same_as_t2"
  echo "(the engine's thread count changes the last digit of some recorded probabilities; counts and choices agree)."
  echo "The Spark run's classpath had no pytorch jar (target/spark-jars.txt + Spark's provided jars)."
  echo
  echo "Single-process summary:"
  echo '```json'
  cat "$work/single/masks.jsonl.summary.json"
  echo '```'
  echo "Spark summary:"
  echo '```json'
  cat "$work/spark/masks.jsonl.summary.json"
  echo '```'
} > "$out"
cat "$out"
[[ $same_masks == yes && $same_options == yes && $same_summary == yes ]]
