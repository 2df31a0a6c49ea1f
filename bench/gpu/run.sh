#!/usr/bin/env bash
# GPU verification, run on the GPU host from the bundle that bench/gpu/pack.sh built:
#
#   bash bundle/run.sh [--stages env,build,ctest,java,mine,bench,peers,engine-peer,memcheck]
#                      [--budget SECONDS] [--quick] [--ce-configs N,D,V,DENSITY/...]
#
# One shot: the whole run fits in --budget (default 480 s = 8 minutes, build included), every stage
# has its own time box (BOX_* below, cut to what is left), a stage that fails or times out is
# recorded and the next one still runs, and the results table is printed at the end even when stages
# fail or the run is interrupted (SIGINT/SIGTERM). Stages, in the order they run (most important first):
#   env          nvidia-smi, nvcc, compute-sanitizer, python3/torch/transformers versions
#   build        CMake + nvcc for this GPU's compute capability (nvidia-smi; LP_CUDA_ARCH=90 forces
#                one), tests and native benchmarks on. The build folder ($LP_BUILD, default
#                <bundle>/../.linchpin-gpu-build, outside the bundle so a fresh copy of the bundle does
#                not replace it) is reused by a second call on the same machine: sources are synced
#                into it by content, so only what changed recompiles
#   ctest        every native test (tests/native): CUDA kernels and the CUDA engine vs their CPU twins
#   java         every bundled JUnit test (libtorch-free; the "gpu"-tagged ones drive CUDA via JNI)
#   mine         the mining run: `linchpin mine --device cpu|cuda|cuda-bf16` from the bundle's jars
#                without libtorch on the carried embedded default; fp32 CUDA masks must equal the CPU
#                run's, bf16 agreement is reported; examples/min and branch tokens/s recorded
#   bench        every native bench_* executable (masked CE, staircase, top-k, engine branches): JSON lines
#   peers        every src/bench/gpu/peers/*.py but engine_generate_peer.py: PyTorch peers of the kernels
#                (the bundle's pylib/ first on PYTHONPATH: Liger-Kernel and cut-cross-entropy, pylib.sh)
#   engine-peer  peers/engine_generate_peer.py: transformers' generate on the GPU, the engine's peer
#                for the branch workload bench_engine_branches ran (same checkpoints, same prompts)
#   memcheck     compute-sanitizer memcheck on every native CUDA test (last: the slowest per second)
# On a GPU host (nvidia-smi lists a GPU) CUDA must work: LINCHPIN_REQUIRE_CUDA=1 is exported, so a
# CUDA test that would skip fails instead, and a stage whose CUDA tests skipped anyway fails. Where
# nvidia-smi sees no GPU (a dry run on a dev machine) the build and CPU tests run and the GPU stages
# are recorded as "no-gpu".
# --ce-configs: only the fused masked linear-CE, on these configurations (N,D,V,density, separated by
# "/", ";" or spaces): the bench stage runs only bench_masked_ce (once per configuration, both dW modes),
# the peers stage only peers/masked_ce_peers.py (--config per configuration, every peer: torch, Liger,
# CCE, the GEMM floor), and when no stage but env, build, bench and peers is asked for, the build makes
# only bench_masked_ce (and the libraries it needs), not the tests. The peers' box defaults to 240 s then.
#   bash bundle/run.sh --stages env,build,bench,peers --budget 330 \
#     --ce-configs 4096,4096,128256,0.12/4096,4096,128256,0.05/16384,4096,128256,0.12/8192,2304,256000,0.12
# Results: results.md, results.json, bench.jsonl, logs.tar.gz in $OUT (else ./gpu-results).
# Exit status: 0 if build, ctest, java, mine and memcheck passed or were skipped for a stated reason;
# 1 otherwise (benchmark and peer failures are recorded but do not change it).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
START=$(date +%s)
STAGES="env,build,ctest,java,mine,bench,peers,engine-peer,memcheck"
BUDGET=480
QUICK=0
CE_CONFIGS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stages) STAGES="${2:?}"; shift 2 ;;
    --budget) BUDGET="${2:?}"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --ce-configs) CE_CONFIGS="$(echo "${2:?}" | tr ';/' '  ' | xargs)"; shift 2 ;;
    -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "run.sh: --budget needs whole seconds" >&2; exit 2; }
for c in $CE_CONFIGS; do
  [[ "$c" =~ ^[0-9]+,[0-9]+,[0-9]+,[0-9]*\.?[0-9]+$ ]] || {
    echo "run.sh: --ce-configs takes N,D,V,DENSITY items separated by / (got \"$c\")" >&2; exit 2; }
done
# With --ce-configs and no stage that needs the tests, the build makes only the CE's benchmark.
BUILD_TARGETS=""
if [[ -n "$CE_CONFIGS" && ! ",$STAGES," =~ ,(ctest|java|mine|engine-peer|memcheck), ]]; then BUILD_TARGETS="bench_masked_ce"; fi
[[ -d "$HERE/src" && -x "$HERE/jre/bin/java" ]] || {
  echo "run.sh: $HERE is not a bundle (no src/ or jre/); build one with bench/gpu/pack.sh" >&2; exit 2; }

# Time boxes (seconds) per stage; a stage gets min(its box, time left - RESERVE). LP_BOX_<stage>
# overrides one (a dry run on a slow dev machine: LP_BOX_build=1800).
BOX_env=${LP_BOX_env:-20} BOX_build=${LP_BOX_build:-200} BOX_ctest=${LP_BOX_ctest:-60} BOX_java=${LP_BOX_java:-75}
BOX_mine=${LP_BOX_mine:-75} BOX_bench=${LP_BOX_bench:-75} BOX_peers=${LP_BOX_peers:-$([[ -n "$CE_CONFIGS" ]] && echo 240 || echo 60)}
BOX_engine_peer=${LP_BOX_engine_peer:-60} BOX_memcheck=${LP_BOX_memcheck:-60}
RESERVE=12   # kept for the summary
CURRENT=""   # the stage running now (reported as interrupted if the run is stopped)
INTERRUPTED=0

RESULTS="${OUT:-$PWD/gpu-results}"
BUILD_ROOT="${LP_BUILD:-$(cd "$HERE/.." && pwd)/.linchpin-gpu-build}"
WORK="${LP_WORK:-$BUILD_ROOT/run}"
LOGS="$WORK/logs"
mkdir -p "$RESULTS" "$LOGS" "$BUILD_ROOT"
rm -rf "$WORK"/stages.tsv "$WORK"/tests.tsv "$WORK"/bench.jsonl "$WORK"/java-reports "$LOGS"/* "$WORK"/bench-out
JAVA="$HERE/jre/bin/java"
SRC="$BUILD_ROOT/src"           # the bundle's sources, synced by content (unchanged files keep their mtime)
BUILD="$BUILD_ROOT/build"
OPENBLAS="$BUILD_ROOT/openblas"
export OPENBLAS_NUM_THREADS=1

has_stage() { [[ ",$STAGES," == *",$1,"* ]]; }
left() { echo $((BUDGET - ($(date +%s) - START))); }

CC_RAW="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')"
GPU_HOST=0
[[ -n "$CC_RAW" ]] && GPU_HOST=1
# A GPU is here: CUDA must work. Every CUDA skip in the native and Java tests becomes a failure.
[[ "$GPU_HOST" == 1 ]] && export LINCHPIN_REQUIRE_CUDA=1

# stage NAME KIND FUNCTION: runs FUNCTION in a child bash under `timeout`, output in logs/NAME.log;
# records NAME KIND STATUS SECONDS NOTE in stages.tsv. KIND "test" or "build" failures make the exit
# status 1. FUNCTION's exit 77 means skipped and 78 "no GPU here" (its last output line says why).
stage() {
  local name="$1" kind="$2"; shift 2
  local log="$LOGS/$name.log" t0 rc status note="" remaining box var
  if ! has_stage "$name"; then return 0; fi
  var="BOX_${name//-/_}"
  box="${!var:-60}"
  remaining=$(( $(left) - RESERVE ))
  if [[ "$remaining" -lt 15 ]]; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "no-time" 0 "budget spent before it started" >> "$WORK/stages.tsv"
    return 0
  fi
  [[ "$remaining" -lt "$box" ]] && box="$remaining"
  echo "=== $name ($(date -u +%H:%M:%S), box ${box}s, $(left)s left)"
  t0=$(date +%s)
  CURRENT="$name $kind $t0"
  STAGE_BOX="$box" timeout --kill-after=5 "$box" bash -c "$1" > "$log" 2>&1
  rc=$?
  case "$rc" in
    0) status=pass ;;
    77) status=skip; note="$(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)" ;;
    78) status=no-gpu; note="$(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)" ;;
    124|137) status=timeout; note="stopped at its ${box}s box" ;;
    *) status=fail; note="exit $rc: $(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)" ;;
  esac
  CURRENT=""
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
# Without a GPU (a dry run) the build still compiles, for sm_90.
ARCH="${LP_CUDA_ARCH:-${CC_RAW:-90}}"
# A PyTorch with a GPU, for the peers (the image's python3 is the one that holds it).
TORCH_OK=0
python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1 && TORCH_OK=1
# cuBLAS for the engine's GEMMs: the system's, else the one inside PyTorch's environment. When one is
# found, test_engine_cuda must take the cuBLAS path (LINCHPIN_REQUIRE_CUBLAS=1).
if [[ -z "${LINCHPIN_CUBLAS_LIB:-}" ]]; then
  CUBLAS="$(python3 -c 'import glob, os, nvidia.cublas as c; d = os.path.join(list(c.__path__)[0], "lib"); print(sorted(glob.glob(d + "/libcublas.so.*"))[-1])' 2>/dev/null || true)"
  if [[ -z "$CUBLAS" ]]; then
    CUBLAS="$(ldconfig -p 2>/dev/null | sed -n 's/.*\(libcublas\.so\.1[23]\) .*=> \(.*\)/\2/p' | head -1)"
  fi
  [[ -n "$CUBLAS" ]] && export LINCHPIN_CUBLAS_LIB="$CUBLAS"
fi
[[ "$GPU_HOST" == 1 && -n "${LINCHPIN_CUBLAS_LIB:-}" && "${LINCHPIN_CUBLAS_LIB}" != off ]] && export LINCHPIN_REQUIRE_CUBLAS=1

no_gpu() { echo "no GPU here (nvidia-smi lists none): $1"; exit 78; }

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
  echo "transformers: $(python3 -c 'import transformers; print(transformers.__version__)' 2>&1 | tail -1)"
  echo "triton: $(python3 -c 'import triton; print(triton.__version__)' 2>&1 | tail -1)"
  if [[ -f "$HERE/pylib/VERSIONS.txt" ]]; then
    echo "bundle pylib: $(awk '/^(liger_kernel|cut_cross_entropy) / { printf "%s%s@%s", (n++ ? ", " : ""), $1, substr($3, 1, 12) }' "$HERE/pylib/VERSIONS.txt")"
  else
    echo "bundle pylib: none (packed with --no-pylib?): Liger and CCE peers only if installed"
  fi
  [[ -n "$CE_CONFIGS" ]] && echo "CE configurations only: $CE_CONFIGS${BUILD_TARGETS:+ (build target: $BUILD_TARGETS)}"
  echo "cuBLAS for the engine: ${LINCHPIN_CUBLAS_LIB:-none found (the engine uses its own GEMM)}"
  echo "build folder: $BUILD_ROOT ($([[ -f "$BUILD/CMakeCache.txt" ]] && echo reused || echo new))"
  echo "LINCHPIN_REQUIRE_CUDA=${LINCHPIN_REQUIRE_CUDA:-0} LINCHPIN_REQUIRE_CUBLAS=${LINCHPIN_REQUIRE_CUBLAS:-0}"
  [[ "$GPU_HOST" == 1 ]] || no_gpu "a dry run: the build and the CPU tests run, the GPU stages do not"
}

# Copies the bundle's sources into $SRC where their content differs (new mtime only for those), and
# removes what the bundle no longer has, so the build folder's make/ninja recompiles only changes.
sync_sources() {
  mkdir -p "$SRC"
  if command -v rsync >/dev/null 2>&1; then
    rsync -rc --delete "$HERE/src/" "$SRC/"
    return
  fi
  (cd "$HERE/src" && find . -type f) | while read -r f; do
    if ! cmp -s "$HERE/src/$f" "$SRC/$f"; then mkdir -p "$SRC/$(dirname "$f")"; cp "$HERE/src/$f" "$SRC/$f"; fi
  done
  (cd "$SRC" && find . -type f) | while read -r f; do [[ -e "$HERE/src/$f" ]] || rm -f "$SRC/$f"; done
}

build_stage() {
  [[ -n "$NVCC" ]] || { echo "no nvcc on PATH or under /usr/local/cuda*/bin"; return 1; }
  sync_sources || return 1
  local jar
  jar="$(ls "$HERE"/lib/openblas-*-linux-x86_64.jar | head -1)"
  if [[ ! -f "$OPENBLAS/.from" || "$(cat "$OPENBLAS/.from")" != "$(basename "$jar")" ]]; then
    rm -rf "$OPENBLAS"
    "$JAVA" -cp "$HERE/tools" ExtractJar "$jar" org/bytedeco/openblas/linux-x86_64/ "$OPENBLAS" || return 1
    basename "$jar" > "$OPENBLAS/.from"
  fi
  local gen=()
  if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then command -v ninja >/dev/null 2>&1 && gen=(-G Ninja); fi
  cmake -S "$SRC" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DLP_CUDA=ON -DLP_BENCH=ON \
        -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="${ARCH}-real" \
        -DLP_OPENBLAS_DIR="$OPENBLAS" -DLP_OUTPUT_DIR="$BUILD/lib" || return 1
  cmake --build "$BUILD" --parallel "$(nproc)" ${BUILD_TARGETS:+--target $BUILD_TARGETS} || return 1
  [[ -f "$BUILD/lib/liblinchpin_cuda.so" ]] || { echo "the CUDA backend was not built (see CMake output)"; return 1; }
}

ctest_stage() {
  [[ -d "$BUILD" ]] || { echo "no build"; return 1; }
  ctest --test-dir "$BUILD" --output-on-failure --timeout 120
  local rc=$?
  # On a GPU host a skipped test (exit 77: "no CUDA") means CUDA did not run: that is a failure.
  local skipped
  skipped="$(grep -cE '\*\*\*Skipped|Not Run' "$LOGS/ctest.log" 2>/dev/null || true)"
  if [[ "$GPU_HOST" == 1 && "${skipped:-0}" -gt 0 ]]; then
    echo "FAIL: $skipped native test(s) skipped on a GPU host"
    return 1
  fi
  [[ "$rc" == 0 && "$GPU_HOST" == 0 ]] && { echo "CPU tests passed; the CUDA tests skipped (no GPU here)"; return 78; }
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
  [[ -f "$BUILD/lib/liblinchpin_cuda.so" ]] && export LINCHPIN_CUDA_LIB="$BUILD/lib/liblinchpin_cuda.so"
  "$JAVA" -Xss4m -Dorg.bytedeco.javacpp.cachedir="$WORK/javacpp-cache" \
    -jar "$HERE"/lib/junit-platform-console-standalone-*.jar execute \
    --class-path "$cp" "${select[@]}" --reports-dir "$WORK/java-reports" \
    --details=tree --disable-banner --disable-ansi-colors --fail-if-no-tests
  local rc=$?
  # Skips other than the refusal tests ("runs only where CUDA is unavailable") mean a GPU test did not
  # run: on a GPU host that fails the stage.
  local unexpected
  unexpected="$(grep -ho '<skipped message="[^"]*"' "$WORK"/java-reports/*.xml 2>/dev/null \
                | grep -v 'runs only where CUDA is unavailable' | grep -ciE 'cuda|gpu|device' || true)"
  if [[ "$GPU_HOST" == 1 && "${unexpected:-0}" -gt 0 ]]; then
    echo "FAIL: $unexpected GPU test(s) skipped on a GPU host"
    return 1
  fi
  [[ "$rc" == 0 && "$GPU_HOST" == 0 ]] && { echo "Java tests passed; the GPU tests skipped (no GPU here)"; return 78; }
  return $rc
}

# ---- mining stage: `linchpin mine` on cpu / cuda / cuda-bf16 (owner: mining; keep edits inside) ----
# Mines the first LP_MINE_EXAMPLES (default 48, --quick 16) training questions of the embedded default
# carried in default/ three times, from the bundle's own jars and runtime, with the CUDA backend built
# above. Prompts: the base template "{question}\n", the same text as the default's chat template renders
# (pack.sh drops the template: jinjava would need java.desktop in the runtime). Fails if a run fails or the CUDA fp32 masks differ from the CPU's (bench/gpu/tools/CompareMasks:
# kept flags, responses, alternatives, verdicts, critical positions); bf16 agreement is only reported.
# Without a GPU (nvidia-smi) only the CPU run happens and the stage reports "no GPU" (exit 78) when it passed.
# Records to $WORK/bench.jsonl as "bench":"mining". Exit 0 pass, 1 fail, 78 no GPU.
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
  [[ "$GPU_HOST" == 1 ]] && devices+=(cuda cuda-bf16)
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
  [[ $rc == 0 && "$GPU_HOST" != 1 ]] && no_gpu "CPU mining run only (it passed)"
  return $rc
}
# ---- end of the mining stage ----

bench_stage() {
  [[ "$GPU_HOST" == 1 ]] || no_gpu "the native benchmarks need one"
  local exe n=0 rc=0 skipped=0 runs=() run args
  mkdir -p "$WORK/bench-out"
  if [[ -n "$CE_CONFIGS" ]]; then   # only the CE, one run per configuration
    for run in $CE_CONFIGS; do
      IFS=, read -r -a args <<< "$run"
      runs+=("bench_masked_ce --n ${args[0]} --d ${args[1]} --v ${args[2]} --density ${args[3]}")
    done
  else
    for exe in "$BUILD"/bench/bench_*; do [[ -x "$exe" && -f "$exe" ]] && runs+=("$(basename "$exe")"); done
  fi
  for run in "${runs[@]}"; do
    read -r -a args <<< "$run"
    exe="$BUILD/bench/${args[0]}"
    [[ -x "$exe" && -f "$exe" ]] || { echo "--- ${args[0]}: not built"; rc=1; continue; }
    n=$((n + 1))
    echo "--- $run"
    LP_BENCH_QUICK=$QUICK LP_BENCH_WORK="$WORK/bench-out" LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$exe" "${args[@]:1}" > "$WORK/bench-$n-$(basename "$exe").jsonl"
    local r=$?
    cat "$WORK/bench-$n-$(basename "$exe").jsonl" >> "$WORK/bench.jsonl"
    echo "--- $run: exit $r, $(wc -l < "$WORK/bench-$n-$(basename "$exe").jsonl") results"
    if [[ $r == 77 ]]; then skipped=$((skipped + 1)); elif [[ $r != 0 ]]; then rc=1; fi
  done
  [[ $n -gt 0 ]] || { echo "no bench_* executable under $BUILD/bench"; return 1; }
  [[ $skipped -gt 0 ]] && { echo "FAIL: $skipped benchmark(s) skipped themselves on a GPU host (CUDA unusable)"; return 1; }
  return $rc
}

peers_stage() {
  [[ "$GPU_HOST" == 1 ]] || no_gpu "the PyTorch peers need one"
  [[ "$TORCH_OK" == 1 ]] || { echo "python3 cannot import torch with a GPU here: peers skipped"; return 77; }
  local py rc=0 scripts=() extra=() c
  if [[ -n "$CE_CONFIGS" ]]; then
    scripts=("$HERE/src/bench/gpu/peers/masked_ce_peers.py")
    for c in $CE_CONFIGS; do extra+=(--config "$c"); done
  else
    for py in "$HERE"/src/bench/gpu/peers/*.py; do
      [[ -f "$py" ]] || continue
      [[ "$(basename "$py")" == _* || "$(basename "$py")" == engine_generate_peer.py ]] && continue
      scripts+=("$py")
    done
  fi
  # Liger-Kernel and cut-cross-entropy travel in the bundle (pack.sh, pylib.sh): first on the path.
  [[ -d "$HERE/pylib" ]] && export PYTHONPATH="$HERE/pylib${PYTHONPATH:+:$PYTHONPATH}"
  # Each script's deadline (after it, the peers it has not started are recorded as skipped): a third of
  # this stage's box; with --ce-configs the one script gets the box less 30 s for the peer it has started.
  local box="${STAGE_BOX:-$BOX_peers}" share
  if [[ -n "$CE_CONFIGS" ]]; then share=$(( box - 30 )); else share=$(( box / 3 )); fi
  [[ $share -lt 10 ]] && share=10
  for py in "${scripts[@]}"; do
    echo "--- $(basename "$py") (deadline ${share}s)"
    PYTHONUNBUFFERED=1 python3 "$py" --jsonl "$WORK/bench.jsonl" --deadline-s "$share" \
      $([[ $QUICK == 1 ]] && echo --quick) "${extra[@]}" || rc=1
  done
  return $rc
}

engine_peer_stage() {
  [[ "$GPU_HOST" == 1 ]] || no_gpu "transformers' generate on the GPU needs one"
  [[ "$TORCH_OK" == 1 ]] || { echo "python3 cannot import torch with a GPU here: the engine's peer skipped"; return 77; }
  LP_BENCH_WORK="$WORK/bench-out" PYTHONUNBUFFERED=1 python3 "$HERE/src/bench/gpu/peers/engine_generate_peer.py" \
    --jsonl "$WORK/bench.jsonl" --deadline-s $(( BOX_engine_peer - 15 )) $([[ $QUICK == 1 ]] && echo --quick)
}

memcheck_stage() {
  [[ "$GPU_HOST" == 1 ]] || no_gpu "compute-sanitizer needs one"
  [[ -n "$SANITIZER" ]] || { echo "compute-sanitizer not found: memcheck skipped"; return 77; }
  local exe rc=0 n=0 slow=0 exes=()
  for exe in "$BUILD"/tests/native/*cuda*; do
    [[ -x "$exe" && -f "$exe" && "$(basename "$exe")" != test_cuda_load_cpu ]] && exes+=("$exe")
  done
  [[ ${#exes[@]} -gt 0 ]] || { echo "no CUDA test executable under $BUILD/tests/native"; return 1; }
  # The sanitizer slows kernels 10-100x: each test gets an equal share of the box; one that runs out
  # is reported as not checked (a timeout), not as a memory error.
  local per=$(( (BOX_memcheck - 5) / ${#exes[@]} ))
  for exe in "${exes[@]}"; do
    n=$((n + 1))
    echo "--- memcheck $(basename "$exe") (${per}s)"
    LD_LIBRARY_PATH="$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      timeout --kill-after=3 "$per" "$SANITIZER" --tool memcheck --error-exitcode 101 "$exe"
    local r=$?
    echo "--- $(basename "$exe"): exit $r"
    local verdict=fail
    [[ $r == 0 ]] && verdict=pass
    [[ $r == 124 || $r == 137 ]] && { verdict=timeout; slow=$((slow + 1)); }
    printf 'memcheck\t%s\t%s\n' "$(basename "$exe")" "$verdict" >> "$WORK/tests.tsv"
    [[ $verdict == fail ]] && rc=1
  done
  [[ $rc == 0 && $slow -gt 0 ]] && echo "no memory errors found; $slow of $n test(s) did not finish under the sanitizer in ${per}s"
  return $rc
}

# ---- results (also on SIGINT/SIGTERM: whatever ran is reported) ----
summarize() {
  trap - EXIT INT TERM
  if [[ -n "$CURRENT" ]]; then   # stopped inside a stage: record it
    read -r cname ckind ct0 <<< "$CURRENT"
    printf '%s\t%s\t%s\t%s\t%s\n' "$cname" "$ckind" "interrupted" $(( $(date +%s) - ct0 )) "the run was stopped during this stage" >> "$WORK/stages.tsv"
  fi
  # Per-test lines from the logs (ctest and the JUnit console), for the results table.
  if [[ -f "$LOGS/ctest.log" ]]; then
    sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) \.*\** *\([A-Za-z]*\).*/ctest\t\1\t\2/p' "$LOGS/ctest.log" >> "$WORK/tests.tsv"
  fi
  if [[ -d "$WORK/java-reports" ]]; then
    cp "$WORK"/java-reports/*.xml "$LOGS/" 2>/dev/null
  fi
  touch "$WORK/stages.tsv" "$WORK/bench.jsonl"
  if command -v python3 >/dev/null 2>&1 && python3 "$HERE/src/bench/gpu/summarize.py" --work "$WORK" --out "$RESULTS" \
       --gpu-host "$GPU_HOST" > "$WORK/short.txt" 2> "$LOGS/summarize.log"; then
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
  FAILED=$(awk -F'\t' '($2 == "test" || $2 == "build") && ($3 == "fail" || $3 == "timeout" || $3 == "interrupted") { n++ } END { print n + 0 }' "$WORK/stages.tsv")
  [[ "$INTERRUPTED" == 1 ]] && FAILED=$((FAILED + 1))
  echo
  echo "results: $RESULTS (results.md, results.json, bench.jsonl, logs.tar.gz); total $(( $(date +%s) - START ))s"
  cat "$WORK/short.txt"
  [[ "$FAILED" == 0 ]]
  exit $?
}
trap summarize EXIT
trap 'INTERRUPTED=1; echo "run.sh: interrupted; reporting what ran"; exit 130' INT TERM

export HERE WORK LOGS BUILD BUILD_ROOT SRC OPENBLAS JAVA NVCC SANITIZER ARCH CC_RAW GPU_HOST TORCH_OK QUICK START BUDGET
export CE_CONFIGS BUILD_TARGETS
export BOX_peers BOX_engine_peer BOX_memcheck
export -f left no_gpu sync_sources env_stage build_stage ctest_stage java_stage mine_stage bench_stage peers_stage \
  engine_peer_stage memcheck_stage

stage env env env_stage
stage build build build_stage
stage ctest test ctest_stage
stage java test java_stage
stage mine test mine_stage
stage bench bench bench_stage
stage peers bench peers_stage
stage engine-peer bench engine_peer_stage
stage memcheck test memcheck_stage
