#!/usr/bin/env bash
# The full `linchpin demo`, timed, with the machine recorded: one command for the committed results.
#   bench/run-demo-full.sh [NAME]        (default NAME: <UTC date>-demo)
# Copies report.html, report.json, demo.json, lr.json and entropy-overlap.json of the run to
# bench/results/NAME/ and writes bench/results/NAME.meta.txt (CPU, load before/after, wall time).
# Add --fresh-base (as the first argument) to train the base from scratch in a temporary cache.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fresh=0
if [[ "${1:-}" == "--fresh-base" ]]; then fresh=1; shift; fi
name="${1:-$(date -u +%F)-demo}"
out="$root/runs"
meta="$root/bench/results/$name.meta.txt"
mkdir -p "$root/bench/results/$name"
if [[ $fresh == 1 ]]; then export LINCHPIN_CACHE="$(mktemp -d)"; fi
{
    echo "command: ./linchpin demo --name $name (fresh base: $fresh)"
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
    echo "load before: $(uptime)"
    echo "started: $(date -u +%FT%TZ)"
} > "$meta"
# Build once through the launcher, then run a private copy of the jar: a rebuild in this checkout during
# the run (another ./linchpin or mvn package) would otherwise replace classes under the running JVM.
"$root/linchpin" --help > /dev/null
private="$(mktemp -d)"
cp "$root/target/linchpin-0.1.0-SNAPSHOT.jar" "$private/linchpin.jar"
start=$(date +%s)
OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" nice -n 19 java -Xss4m -cp "$private/linchpin.jar:$(cat "$root/target/classpath.txt")" \
    dev.linchpin.cli.Main demo --name "$name" --out "$out" --progress log
end=$(date +%s)
rm -rf "$private"
{
    echo "finished: $(date -u +%FT%TZ)"
    echo "wall seconds: $((end - start))"
    echo "load after: $(uptime)"
} >> "$meta"
for f in report.html report.json demo.json lr.json entropy-overlap.json; do cp "$out/$name/$f" "$root/bench/results/$name/"; done
cat "$meta"
