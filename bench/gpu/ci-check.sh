#!/usr/bin/env bash
# What CI can check of the GPU kit without a GPU (run by `mvn verify`, after package):
#   1. the scripts parse (bash -n; python3 -m py_compile where python3 exists: no torch needed);
#   2. the bundle builds from the already-built jar and stays under 64 MiB (pack.sh --no-build; with the
#      Python peers' pylib/ where their git mirrors are on this machine, bench/gpu/pylib.sh, else without);
#   3. the bundle is self-contained for Java: its own runtime runs the bundled tests through the JUnit
#      console launcher (CPU tests pass; GPU tests skip here by assumption).
#   bash bench/gpu/ci-check.sh [bundle-dir]      (default target/gpu-bundle)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${1:-$ROOT/target/gpu-bundle}"

for s in "$ROOT"/bench/gpu/*.sh; do bash -n "$s"; done
if command -v python3 >/dev/null 2>&1; then
  for p in "$ROOT"/bench/gpu/*.py "$ROOT"/bench/gpu/peers/*.py; do
    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$p"
  done
else
  echo "ci-check: no python3 here, Python scripts not parsed"
fi

pylib=()
if ! bash "$ROOT/bench/gpu/pylib.sh" --available; then
  pylib=(--no-pylib)
  echo "ci-check: no git mirrors of Liger-Kernel / ml-cross-entropy here: bundle checked without pylib/"
fi
bash "$ROOT/bench/gpu/pack.sh" --no-build "${pylib[@]}" --out "$BUNDLE"

cp="$BUNDLE/test-classes"
for j in "$BUNDLE"/lib/*.jar; do [[ "$j" == *console-standalone* ]] || cp="$cp:$j"; done
select=()
while read -r cls; do select+=(--select-class "$cls"); done < "$BUNDLE/test-classes.txt"
OPENBLAS_NUM_THREADS=1 "$BUNDLE/jre/bin/java" -Dorg.bytedeco.javacpp.cachedir="$ROOT/target/gpu-bundle-javacpp" \
  -jar "$BUNDLE"/lib/junit-platform-console-standalone-*.jar execute --class-path "$cp" "${select[@]}" \
  --details=summary --disable-banner --disable-ansi-colors --fail-if-no-tests
echo "ci-check: GPU kit OK"
