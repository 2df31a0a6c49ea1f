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
start=$(date +%s)
nice -n 19 "$root/linchpin" demo --name "$name" --out "$out" --progress log
end=$(date +%s)
{
    echo "finished: $(date -u +%FT%TZ)"
    echo "wall seconds: $((end - start))"
    echo "load after: $(uptime)"
} >> "$meta"
for f in report.html report.json demo.json lr.json entropy-overlap.json; do cp "$out/$name/$f" "$root/bench/results/$name/"; done
cat "$meta"
