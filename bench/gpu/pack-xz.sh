#!/usr/bin/env bash
# Packs the bundle that bench/gpu/pack.sh built into one xz archive for the device tool:
#
#   bash bench/gpu/pack-xz.sh [--bundle DIR] [--out FILE]
#
# Why: the device tool's 64 MiB limit counts the whole working tree that travels (every tracked file,
# about 10 MB here) plus what `carry` names, and the bundle alone is close to 64 MiB. Jars and the
# gzip'ed libjvm.so are already deflated, so xz gains little on them as they are; stored without
# compression first (same files, `zip -0`; libjvm.so raw), the whole bundle xz's to about 40 MB.
# Default out: <repo>/.gpu-carry/bundle.tar.xz (git-ignored). On the GPU host:
#
#   tar -xJf .gpu-carry/bundle.tar.xz && bash bundle/run.sh          (device tool: carry [".gpu-carry"])
#
# Fails if the tracked files plus the archive reach 64 MiB.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$ROOT/bundle"
OUT_FILE="$ROOT/.gpu-carry/bundle.tar.xz"
MAX_BYTES=$((64 * 1024 * 1024))
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) BUNDLE="${2:?--bundle needs a folder}"; shift 2 ;;
    --out) OUT_FILE="${2:?--out needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "pack-xz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "pack-xz.sh: $*" >&2; exit 1; }
for tool in zip unzip xz tar gzip; do command -v "$tool" >/dev/null || die "needs $tool on PATH"; done
[[ -f "$BUNDLE/.linchpin-bundle" && -f "$BUNDLE/run.sh" ]] || die "$BUNDLE is not a bundle (run bench/gpu/pack.sh first)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cp -a "$BUNDLE" "$TMP/bundle"
# The runtime's wrapper (jre/bin/java) unpacks libjvm.so.gz only when libjvm.so is missing.
if [[ -f "$TMP/bundle/jre/lib/server/libjvm.so.gz" ]]; then gzip -d "$TMP/bundle/jre/lib/server/libjvm.so.gz"; fi
for jar in "$TMP"/bundle/lib/*.jar; do
  rm -rf "$TMP/x" && mkdir "$TMP/x"
  (cd "$TMP/x" && unzip -q "$jar")
  rm "$jar"
  (cd "$TMP/x" && zip -q -0 -r -X "$jar" .)
done
mkdir -p "$(dirname "$OUT_FILE")"
tar -C "$TMP" -cf - bundle | xz -9e -T0 > "$OUT_FILE.tmp"
mv -f "$OUT_FILE.tmp" "$OUT_FILE"

ARCHIVE="$(stat -c %s "$OUT_FILE")"
TRACKED="$(git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 stat -c %s 2>/dev/null) | awk '{ s += $1 } END { print s + 0 }')"
TOTAL=$((ARCHIVE + TRACKED))
awk -v a="$ARCHIVE" -v t="$TRACKED" 'BEGIN { printf "pack-xz.sh: archive %.1f MiB + tracked files %.1f MiB = %.1f MiB of 64\n", a / 1048576, t / 1048576, (a + t) / 1048576 }'
echo "pack-xz.sh: $OUT_FILE"
[[ "$TOTAL" -lt "$MAX_BYTES" ]] || die "archive + tracked files = $TOTAL bytes, over the device tool's $MAX_BYTES"
