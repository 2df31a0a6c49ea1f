#!/usr/bin/env bash
# Resident memory of `linchpin eval` at real dimensions: the Qwen3-0.6B-shaped checkpoint (fp32,
# 2.4 GB; made by bench/make_qwen3_06b.py with transformers: random weights at the real config, tied
# embedding padded to 151936 rows, Qwen3's real tokenizer). Runs `linchpin eval` on 4 questions
# x (greedy + 4 samples), 64 new tokens, 2 threads, under /usr/bin/time -v, with libtorch left off the
# class path (the eval path needs none), and reports the peak RSS against the checkpoint's size
# (goal: <= 1.5x). With --baseline REV the same run of commit REV (built in a temporary worktree,
# with its full class path) is measured too, side by side.
#
#   bash bench/run-eval-rss.sh [--model DIR] [--baseline REV]
#
# Prints a markdown block (machine, load, command, numbers); append it to bench/results/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=/work/models/qwen3-0.6b-random
BASELINE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="${2:?}"; shift 2 ;;
    --baseline) BASELINE="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run-eval-rss.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f "$MODEL/config.json" ]] || { echo "no model at $MODEL (make one with bench/make_qwen3_06b.py)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/data.jsonl" <<'DATA'
{"id": "q1", "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "answer": "#### 72"}
{"id": "q2", "question": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?", "answer": "#### 10"}
{"id": "q3", "question": "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. How much more money does Betty need?", "answer": "#### 5"}
{"id": "q4", "question": "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?", "answer": "#### 624"}
DATA

# build DIR: packages DIR (no tests, no CUDA) and prints its runtime class path; DROP_TORCH=1 leaves libtorch out.
build() {
  local dir="$1"
  (cd "$dir" && mvn -B -q -ntp -o -Dlinchpin.cuda=OFF -DskipTests package >&2 \
     && mvn -B -q -ntp -o dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$WORK/cp.txt" >&2)
  # A private copy of the jar: the worktree may be rebuilt while the measurement runs.
  local jar="$WORK/linchpin-$RANDOM$RANDOM.jar" cp
  cp "$(ls "$dir"/target/linchpin-*.jar | grep -v -e sources -e tests | head -1)" "$jar"
  cp="$jar:$(cat "$WORK/cp.txt")"
  if [[ "${DROP_TORCH:-0}" == 1 ]]; then cp="$(tr ':' '\n' <<< "$cp" | grep -v '/org/bytedeco/pytorch/' | paste -sd:)"; fi
  echo "$cp"
}

# measure LABEL CLASSPATH: one eval run; prints "LABEL|peak RSS kB|wall|exit|load average before"
measure() {
  local label="$1" cp="$2" log="$WORK/$1.log"
  local rc=0 rss wall load
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -v java -Xss4m -cp "$cp" dev.linchpin.cli.Main eval --model "$MODEL" --data "$WORK/data.jsonl" \
      --samples 4 --max-new-tokens 64 --threads 2 --progress log --out "$WORK/$label.json" > "$log" 2>&1 || rc=$?
  rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")"
  echo "$label|$rss|$wall|$rc|$load"
  [[ $rc == 0 ]] || tail -20 "$log" >&2
}

ckpt_bytes="$(du -cb "$MODEL"/*.safetensors | tail -1 | cut -f1)"
rows=()
rows+=("$(measure this "$(DROP_TORCH=1 build "$ROOT")")")
if [[ -n "$BASELINE" ]]; then
  mkdir -p "$WORK/baseline"   # the commit's files only (git archive): no worktree, no checkout of this one
  git -C "$ROOT" archive "$BASELINE" | tar -x -C "$WORK/baseline"
  rows+=("$(measure "baseline-$(git -C "$ROOT" rev-parse --short "$BASELINE")" "$(build "$WORK/baseline")")")
fi

echo
echo "### linchpin eval resident memory, $(basename "$MODEL") ($(awk -v b="$ckpt_bytes" 'BEGIN{printf "%.2f GB", b/1e9}') of safetensors)"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB; shared, see the load column"
echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD); command: bash bench/run-eval-rss.sh${BASELINE:+ --baseline $BASELINE}"
echo "- run: linchpin eval, 4 questions x (greedy + 4 samples), 64 new tokens, 2 threads, /usr/bin/time -v"
echo
echo "| build | peak RSS | RSS / checkpoint | wall | exit | load average before |"
echo "|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r label rss wall rc load <<< "$r"
  awk -v l="$label" -v k="$rss" -v b="$ckpt_bytes" -v w="$wall" -v rc="$rc" -v ld="$load" \
    'BEGIN { printf "| %s | %.2f GB | %.2fx | %s | %s | %s |\n", l, k * 1024 / 1e9, k * 1024 / b, w, rc, ld }'
done
