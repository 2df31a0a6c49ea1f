#!/usr/bin/env bash
# GPU verification, run on the GPU host from the bundle that bench/gpu/pack.sh built:
#
#   bash bundle/run.sh [--stages env,build,ctest,memcheck,java,mine,bench,peers] [--budget SECONDS] [--quick]
#
# Stages (each one's failure is recorded and the next one still runs, so every GPU hour leaves evidence):
#   env       nvidia-smi, nvcc, compute-sanitizer, python3/torch versions
#   build     CMake + nvcc for this GPU's compute capability (nvidia-smi), into $LP_WORK/build, with the
#             native benchmarks on; OpenBLAS is unpacked from the bundle's jar with the carried Java
#   ctest     every native test (tests/native): CUDA kernels vs CPU twins; exit 77 = skipped
#   memcheck  compute-sanitizer memcheck on every native CUDA test executable (name contains "cuda")
#   java      every bundled JUnit test (libtorch-free; the "gpu"-tagged ones drive CUDA through JNI)
#             on the carried runtime, with the freshly built liblinchpin_cuda.so
#   mine      `linchpin mine` end to end from the bundle's jars (no libtorch) on the embedded default it
#             carries (default/): --device cpu, cuda and cuda-bf16 on the same questions; fp32 masks must
#             equal the CPU run's, bf16 agreement is reported; examples/min and branch tokens/s to bench.jsonl
#   bench     every $LP_WORK/build/bench/bench_* executable; each prints JSON lines
#   peers     every src/bench/gpu/peers/*.py, if `python3 -c 'import torch'` works and sees a GPU
# Then src/bench/gpu/summarize.py writes results.md / results.json (python3; a plain fallback without it)
# into $OUT if set, else ./gpu-results, with all logs in logs.tar.gz, and prints a short table last.
#
# --budget: wall-clock seconds for the whole run (default 540: a device-tool command may run 600). A
# stage that cannot start with 20 s left is recorded as "no-time"; running stages get the time left.
# --quick: fewer benchmark iterations and peer configurations.
# Exit status: 0 if build, ctest, memcheck and java all passed (or were skipped for a stated reason),
# 1 otherwise. Benchmark and peer failures are recorded but do not change it.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
START=$(date +%s)
STAGES="env,build,ctest,memcheck,java,mine,bench,peers"
BUDGET=540
QUICK=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stages) STAGES="${2:?}"; shift 2 ;;
    --budget) BUDGET="${2:?}"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "run.sh: --budget needs whole seconds" >&2; exit 2; }
[[ -d "$HERE/src" && -x "$HERE/jre/bin/java" ]] || {
  echo "run.sh: $HERE is not a bundle (no src/ or jre/); build one with bench/gpu/pack.sh" >&2; exit 2; }

RESULTS="${OUT:-$PWD/gpu-results}"
WORK="${LP_WORK:-${TMPDIR:-/tmp}/linchpin-gpu}"
LOGS="$WORK/logs"
mkdir -p "$RESULTS" "$LOGS"
rm -f "$WORK"/stages.tsv "$WORK"/tests.tsv "$WORK"/bench.jsonl "$LOGS"/*
JAVA="$HERE/jre/bin/java"
BUILD="$WORK/build"
OPENBLAS="$WORK/openblas"
export OPENBLAS_NUM_THREADS=1

has_stage() { [[ ",$STAGES," == *",$1,"* ]]; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

# stage NAME KIND FUNCTION: runs FUNCTION with the time left, output in logs/NAME.log; records
# NAME KIND STATUS SECONDS NOTE in stages.tsv. KIND "test" or "build" failures make the exit status 1.
# FUNCTION's exit 77 means skipped (its last output line says why).
stage() {
  local name="$1" kind="$2"; shift 2
  local log="$LOGS/$name.log" t0 rc status note="" remaining
  if ! has_stage "$name"; then return 0; fi
  remaining=$(left)
  if [[ "$remaining" -lt 20 ]]; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "no-time" 0 "budget spent before it started" >> "$WORK/stages.tsv"
    return 0
  fi
  echo "=== $name ($(date -u +%H:%M:%S), ${remaining}s left)"
  t0=$(date +%s)
  # The stage functions are exported: timeout runs them in a child bash it can stop.
  timeout --kill-after=10 "$remaining" bash -c "$1" > "$log" 2>&1
  rc=$?
  case "$rc" in
    0) status=pass ;;
    77) status=skip; note="$(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)" ;;
    124|137) status=timeout; note="stopped at the budget" ;;
    *) status=fail; note="exit $rc: $(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)" ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$status" $(( $(date +%s) - t0 )) "${note//$'\t'/ }" >> "$WORK/stages.tsv"
  echo "    $status $note"
  tail -5 "$log" | sed 's/^/    | /'
}

find_tool() {  # name: from PATH, next to nvcc, or under /usr/local/cuda*/bin
  local t="$1" c
  if command -v "$t" >/dev/null 2>&1; then command -v "$t"; return 0; fi
  for c in ${NVCC:+$(dirname "$NVCC")} /usr/local/cuda/bin /usr/local/cuda-*/bin /opt/nvidia/*/bin; do
    if [[ -x "$c/$t" ]]; then echo "$c/$t"; return 0; fi
  done
  return 1
}
NVCC="$(find_tool nvcc || true)"
SANITIZER="$(find_tool compute-sanitizer || true)"
CC_RAW="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
ARCH="${LP_CUDA_ARCH:-${CC_RAW}}"
# A PyTorch with a GPU, for the peers (the image's python3 is the one that holds it).
TORCH_OK=0
python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1 && TORCH_OK=1

# ---------------------------------------------------------------------------------------------------
env_stage() {
  echo "bundle: $(head -3 "$HERE/MANIFEST.txt" 2>/dev/null | tr '\n' ' ')"
  echo "host: $(uname -a)"
  echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | head -1)"
  echo "nvcc: ${NVCC:-none} $([[ -n "$NVCC" ]] && "$NVCC" --version | tail -1)"
  echo "compute-sanitizer: ${SANITIZER:-none}"
  echo "cmake: $(cmake --version 2>/dev/null | head -1 || echo none)"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "python3: $(python3 --version 2>&1 || echo none)"
  echo "torch: $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' 2>&1 | tail -1)"
  [[ -n "$CC_RAW" ]] || { echo "no GPU seen by nvidia-smi"; return 1; }
}

build_stage() {
  [[ -n "$NVCC" ]] || { echo "no nvcc on PATH or under /usr/local/cuda*/bin"; return 1; }
  [[ -n "$ARCH" ]] || { echo "no GPU compute capability (nvidia-smi); set LP_CUDA_ARCH=90 to force one"; return 1; }
  local jar
  jar="$(ls "$HERE"/lib/openblas-*-linux-x86_64.jar | head -1)"
  rm -rf "$OPENBLAS"
  "$JAVA" -cp "$HERE/tools" ExtractJar "$jar" org/bytedeco/openblas/linux-x86_64/ "$OPENBLAS" || return 1
  local gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  cmake -S "$HERE/src" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DLP_CUDA=ON -DLP_BENCH=ON \
        -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="${ARCH}-real" \
        -DLP_OPENBLAS_DIR="$OPENBLAS" -DLP_OUTPUT_DIR="$BUILD/lib" || return 1
  cmake --build "$BUILD" --parallel "$(nproc)" || return 1
  [[ -f "$BUILD/lib/liblinchpin_cuda.so" ]] || { echo "the CUDA backend was not built (see CMake output)"; return 1; }
}

ctest_stage() {
  [[ -d "$BUILD" ]] || { echo "no build"; return 1; }
  ctest --test-dir "$BUILD" --output-on-failure --timeout 400
}

memcheck_stage() {
  [[ -n "$SANITIZER" ]] || { echo "compute-sanitizer not found: memcheck skipped"; return 77; }
  local exe rc=0 n=0
  for exe in "$BUILD"/tests/native/*cuda*; do
    [[ -x "$exe" && -f "$exe" ]] || continue
    n=$((n + 1))
    echo "--- memcheck $(basename "$exe")"
    LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$SANITIZER" --tool memcheck --error-exitcode 101 "$exe"
    local r=$?
    echo "--- $(basename "$exe"): exit $r"
    printf 'memcheck\t%s\t%s\n' "$(basename "$exe")" "$([[ $r == 0 ]] && echo pass || { [[ $r == 77 ]] && echo skip || echo fail; })" >> "$WORK/tests.tsv"
    [[ $r == 0 || $r == 77 ]] || rc=1
  done
  [[ $n -gt 0 ]] || { echo "no CUDA test executable under $BUILD/tests/native"; return 1; }
  return $rc
}

java_stage() {
  local cp="$HERE/test-classes" j
  for j in "$HERE"/lib/*.jar; do
    [[ "$j" == *junit-platform-console-standalone* ]] || cp="$cp:$j"
  done
  # Each class selected by name: one that cannot load fails the run instead of vanishing from a scan.
  local select=() cls
  while read -r cls; do [[ -n "$cls" ]] && select+=(--select-class "$cls"); done < "$HERE/test-classes.txt"
  [[ ${#select[@]} -gt 0 ]] || { echo "no test class listed in $HERE/test-classes.txt"; return 1; }
  LINCHPIN_CUDA_LIB="$BUILD/lib/liblinchpin_cuda.so" "$JAVA" -Xss4m \
    -Dorg.bytedeco.javacpp.cachedir="$WORK/javacpp-cache" \
    -jar "$HERE"/lib/junit-platform-console-standalone-*.jar execute \
    --class-path "$cp" "${select[@]}" --reports-dir "$WORK/java-reports" \
    --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
}

# ---- mining stage: `linchpin mine` on cpu / cuda / cuda-bf16 (owner: mining; keep edits inside) ----
# Mines the first LP_MINE_EXAMPLES (default 48, --quick 16) training questions of the embedded default
# carried in default/ three times, from the bundle's own jars and runtime, with the CUDA backend built
# above. Prompts: the base template "{question}\n", the same text as the default's chat template renders
# (pack.sh drops the template: jinjava would need java.desktop in the runtime). Fails if a run fails or the CUDA fp32 masks differ from the CPU's (bench/gpu/tools/CompareMasks:
# kept flags, responses, alternatives, verdicts, critical positions); bf16 agreement is only reported.
# Without a GPU (nvidia-smi) only the CPU run happens and the stage is skipped (exit 77) when it passed.
mine_stage() {
  local model="$HERE/default" dir="$WORK/mine" cp rc=0 dev n
  n="${LP_MINE_EXAMPLES:-$([[ $QUICK == 1 ]] && echo 16 || echo 48)}"
  [[ -f "$model/config.json" && -f "$model/data/train.jsonl" ]] || {
    echo "no embedded default in the bundle ($model): pack.sh found none in the linchpin cache"; return 1; }
  rm -rf "$dir" && mkdir -p "$dir"
  head -n "$n" "$model/data/train.jsonl" > "$dir/train.jsonl"
  cp="$(ls "$HERE"/lib/*.jar | grep -v console-standalone | paste -sd: -)"
  if [[ -z "${LINCHPIN_CUBLAS_LIB:-}" ]] && command -v python3 >/dev/null 2>&1; then
    # cuBLAS from a pip-installed CUDA PyTorch (site-packages/nvidia/cublas/lib), as the engine tests use it.
    LINCHPIN_CUBLAS_LIB="$(python3 -c 'import glob, os, site, sys
for d in site.getsitepackages() + [site.getusersitepackages()]:
    for f in sorted(glob.glob(os.path.join(d, "nvidia", "cublas", "lib", "libcublas.so.*"))):
        print(f); sys.exit()' 2>/dev/null || true)"
    [[ -n "$LINCHPIN_CUBLAS_LIB" ]] && export LINCHPIN_CUBLAS_LIB
  fi
  local summary engine devices=(cpu)
  # this_run's fields come last in the pretty-printed summary, after the same-named totals.
  val() { sed -n "s/^ *\"$1\" : \([^,]*\),\{0,1\}$/\1/p" "$summary" | tail -1; }
  [[ -n "$CC_RAW" ]] && devices+=(cuda cuda-bf16)
  for dev in "${devices[@]}"; do
    echo "--- linchpin mine --device $dev ($n questions)"
    local t0=$SECONDS
    if ! LINCHPIN_CUDA_LIB="$BUILD/lib/liblinchpin_cuda.so" "$JAVA" -Xss4m -cp "$cp" dev.linchpin.cli.Main mine \
        --model "$model" --data "$dir/train.jsonl" --out "$dir/$dev.jsonl" --device "$dev" --threads "$(nproc)" \
        --prompt-format base --prompt-template $'{question}\n' \
        --batch-size 16 --max-branches 256 --progress log > "$dir/$dev.log" 2>&1; then
      cat "$dir/$dev.log"; echo "mine --device $dev failed"; rc=1; continue
    fi
    grep -v '^mine \[' "$dir/$dev.log"
    summary="$dir/$dev.jsonl.summary.json"
    engine="$(sed -n 's/^mine: engine: //p' "$dir/$dev.log" | head -1 | tr -d '"\\')"
    printf '{"bench":"mining","status":"ok","device":"%s","engine":"%s","questions":%s,"kept":%s,"critical":%s,"positions":%s,"branches":%s,"branch_tokens":%s,"seconds":%s,"examples_per_min":%s,"branch_tokens_per_s":%s,"wall_s":%s}\n' \
      "$dev" "$engine" "$n" "$(val kept)" "$(val critical)" "$(val positions)" "$(val branches)" "$(val branch_tokens)" \
      "$(val seconds)" "$(val examples_per_minute)" "$(val branch_tokens_per_second)" $((SECONDS - t0)) \
      | tee -a "$WORK/bench.jsonl"
  done
  local tools="$HERE/tools:$cp" other require r
  for other in cuda cuda-bf16; do
    [[ -f "$dir/cpu.jsonl" && -f "$dir/$other.jsonl" ]] || continue
    require=""
    [[ $other == cuda ]] && require=--require-equal   # fp32 must agree exactly; bf16 agreement is reported
    r=0
    "$JAVA" -cp "$tools" CompareMasks "$dir/cpu.jsonl" "$dir/$other.jsonl" "cpu-vs-$other" $require \
      > "$dir/compare-$other.jsonl" 2> "$dir/compare-$other.log" || r=$?
    cat "$dir/compare-$other.jsonl" "$dir/compare-$other.log"
    cat "$dir/compare-$other.jsonl" >> "$WORK/bench.jsonl"
    [[ $r == 0 ]] || { echo "masks of --device $other differ from the CPU's (CompareMasks exit $r)"; rc=1; }
  done
  [[ $rc == 0 && -z "$CC_RAW" ]] && { echo "no GPU seen by nvidia-smi: CPU mining run only (it passed)"; return 77; }
  return $rc
}
# ---- end of the mining stage ----

bench_stage() {
  local exe n=0 rc=0 skipped=0
  for exe in "$BUILD"/bench/bench_*; do
    [[ -x "$exe" && -f "$exe" ]] || continue
    n=$((n + 1))
    echo "--- $(basename "$exe")"
    LP_BENCH_QUICK=$QUICK LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe" \
      > "$WORK/bench-$(basename "$exe").jsonl"
    local r=$?
    cat "$WORK/bench-$(basename "$exe").jsonl" >> "$WORK/bench.jsonl"
    echo "--- $(basename "$exe"): exit $r, $(wc -l < "$WORK/bench-$(basename "$exe").jsonl") results"
    if [[ $r == 77 ]]; then skipped=$((skipped + 1)); elif [[ $r != 0 ]]; then rc=1; fi
  done
  [[ $n -gt 0 ]] || { echo "no bench_* executable under $BUILD/bench"; return 1; }
  if [[ $rc == 0 && $skipped == "$n" ]]; then echo "every benchmark skipped itself (no usable CUDA device)"; return 77; fi
  return $rc
}

peers_stage() {
  [[ "$TORCH_OK" == 1 ]] || { echo "python3 cannot import torch with a GPU here: peers skipped"; return 77; }
  local py rc=0
  for py in "$HERE"/src/bench/gpu/peers/*.py; do
    [[ -f "$py" ]] || continue
    [[ "$(basename "$py")" == _* ]] && continue   # shared modules (peers/_peer.py), imported, not run
    echo "--- $(basename "$py")"
    PYTHONUNBUFFERED=1 python3 "$py" --jsonl "$WORK/bench.jsonl" --deadline-s $(( $(left) - 45 )) \
      $([[ $QUICK == 1 ]] && echo --quick) || rc=1
  done
  return $rc
}

export HERE WORK LOGS BUILD OPENBLAS JAVA NVCC SANITIZER ARCH CC_RAW TORCH_OK QUICK START BUDGET
export -f left env_stage build_stage ctest_stage memcheck_stage java_stage mine_stage bench_stage peers_stage

stage env build env_stage
stage build build build_stage
stage ctest test ctest_stage
stage memcheck test memcheck_stage
stage java test java_stage
stage mine test mine_stage
stage bench bench bench_stage
stage peers bench peers_stage

# Per-test lines from the logs (ctest and the JUnit console), for the results table.
if [[ -f "$LOGS/ctest.log" ]]; then
  sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) \.*\** *\([A-Za-z]*\).*/ctest\t\1\t\2/p' "$LOGS/ctest.log" >> "$WORK/tests.tsv"
fi
if [[ -d "$WORK/java-reports" ]]; then
  cp "$WORK"/java-reports/*.xml "$LOGS/" 2>/dev/null
fi

# ---- results ----
if command -v python3 >/dev/null 2>&1 && python3 "$HERE/src/bench/gpu/summarize.py" --work "$WORK" --out "$RESULTS" \
     > "$WORK/short.txt" 2> "$LOGS/summarize.log"; then
  :
else
  # No python3 (or the summary failed): stage table and raw JSON lines, still evidence.
  {
    echo "# Linchpin GPU run (plain summary: python3 or summarize.py failed, see logs)"
    echo
    echo "| stage | kind | status | seconds | note |"
    echo "|---|---|---|---|---|"
    sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$WORK/stages.tsv"
    echo
    echo '```'
    cat "$WORK/bench.jsonl" 2>/dev/null
    echo '```'
  } > "$RESULTS/results.md"
  {
    printf '{"stages":['
    awk -F'\t' '{ gsub(/"/, "\x27", $5); printf "%s{\"stage\":\"%s\",\"kind\":\"%s\",\"status\":\"%s\",\"seconds\":%s,\"note\":\"%s\"}", (NR>1?",":""), $1, $2, $3, $4, $5 }' "$WORK/stages.tsv"
    printf ']}\n'
  } > "$RESULTS/results.json"
  column -t -s $'\t' "$WORK/stages.tsv" > "$WORK/short.txt" 2>/dev/null || cp "$WORK/stages.tsv" "$WORK/short.txt"
fi
cp "$WORK/bench.jsonl" "$RESULTS/bench.jsonl" 2>/dev/null
tar -czf "$RESULTS/logs.tar.gz" -C "$WORK" logs 2>/dev/null

FAILED=$(awk -F'\t' '($2 == "test" || $2 == "build") && ($3 == "fail" || $3 == "timeout") { n++ } END { print n + 0 }' "$WORK/stages.tsv")
echo
echo "results: $RESULTS (results.md, results.json, bench.jsonl, logs.tar.gz)"
cat "$WORK/short.txt"
[[ "$FAILED" == 0 ]]
