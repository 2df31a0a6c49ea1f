#!/usr/bin/env bash
# Puts the Python peers that the GPU host cannot install (no network, not in its pip) into a bundle
# folder, from local git mirrors, at pinned commits (pack.sh calls it; bench/gpu/README.md):
#
#   bash bench/gpu/pylib.sh OUT_DIR        # writes OUT_DIR/{liger_kernel,cut_cross_entropy,licenses,VERSIONS.txt}
#   bash bench/gpu/pylib.sh --available    # exit 0 when both mirrors hold the pinned commits (ci-check.sh)
#   bash bench/gpu/pylib.sh --why          # the same, saying what is missing and how to get it (pack.sh)
#
#   liger_kernel       Liger-Kernel's src/liger_kernel, only what `import liger_kernel.ops.fused_linear_cross_entropy`
#                      loads: the package root, ops/*.py (ops/__init__ imports every op module),
#                      ops/experimental, ops/backends/{__init__,registry}.py. Left out: the opt-in
#                      alternatives that need SDKs the host lacks and that are never auto-selected on CUDA
#                      (ops/cutile, ops/cutedsl, ops/cute: LIGER_KERNEL_IMPL=...; ops/backends/_ascend: NPU),
#                      transformers/ (HF model patching), chunked_loss/, megatron/, the *.md files.
#   cut_cross_entropy  ml-cross-entropy's cut_cross_entropy package without transformers/ (HF model patching).
#   licenses/          each project's LICENSE (and Liger's NOTICE and licenses/ of the code it derives from).
# Pure Python + Triton; they need torch, triton and packaging, which the GPU host's PyTorch has.
#
# The mirrors are bare git repositories, as the search tool's `fetch` leaves them:
#   fetch github:linkedin/Liger-Kernel      -> $LP_MIRROR/linkedin+Liger-Kernel/repo
#   fetch github:apple/ml-cross-entropy     -> $LP_MIRROR/apple+ml-cross-entropy/repo
# (LP_MIRROR default /work/.mirror). A clone works too: LP_LIGER_GIT / LP_CCE_GIT = its .git folder.
# LP_LIGER_COMMIT / LP_CCE_COMMIT override the pinned commits (a tag, a branch or HEAD of the mirror).
set -euo pipefail

LIGER_COMMIT="${LP_LIGER_COMMIT:-ead96b618e5c67bddc6a6e9bcb99bfe6b5ab661c}"   # 2026-08-21, after v0.8.2
CCE_COMMIT="${LP_CCE_COMMIT:-d42911f9b1a1f98289bb601c35c8151562603d74}"       # 2025-06-26, version 25.6.4
MIRROR="${LP_MIRROR:-/work/.mirror}"
LIGER_GIT="${LP_LIGER_GIT:-$MIRROR/linkedin+Liger-Kernel/repo}"
CCE_GIT="${LP_CCE_GIT:-$MIRROR/apple+ml-cross-entropy/repo}"

die() { echo "pylib.sh: $*" >&2; exit 1; }

# check NAME GIT_DIR COMMIT GITHUB: prints why not, returns 1, when GIT_DIR lacks COMMIT.
check() {
  local name="$1" git_dir="$2" commit="$3" gh="$4"
  if ! git --git-dir="$git_dir" rev-parse --git-dir >/dev/null 2>&1; then
    echo "no git mirror of $name at $git_dir: fetch it with the search tool's fetch (source github:$gh; it lands in" \
         "$MIRROR/${gh/\//+}/repo), or point LP_MIRROR / LP_${name}_GIT at one; or pack without these peers:" \
         "pack.sh --no-pylib (their columns then say unavailable)"
    return 1
  fi
  if ! git --git-dir="$git_dir" rev-parse --verify -q "$commit^{commit}" >/dev/null; then
    echo "the mirror $git_dir has no commit $commit (pinned in bench/gpu/pylib.sh): fetch github:$gh again," \
         "or set LP_${name}_COMMIT=HEAD to take the mirror's newest (then check the peer's API in peers/masked_ce_peers.py)"
    return 1
  fi
}

case "${1:-}" in
  --available|--why)
    why="$(check LIGER "$LIGER_GIT" "$LIGER_COMMIT" linkedin/Liger-Kernel && check CCE "$CCE_GIT" "$CCE_COMMIT" apple/ml-cross-entropy)" \
      && exit 0
    [[ "$1" == --why ]] && echo "$why"
    exit 1 ;;
esac
OUT="${1:?usage: pylib.sh OUT_DIR | --available | --why}"
command -v git >/dev/null || die "needs git"
why="$(check LIGER "$LIGER_GIT" "$LIGER_COMMIT" linkedin/Liger-Kernel)" || die "$why"
why="$(check CCE "$CCE_GIT" "$CCE_COMMIT" apple/ml-cross-entropy)" || die "$why"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/licenses/Liger-Kernel" "$OUT/licenses/ml-cross-entropy" "$TMP/liger" "$TMP/cce"

# ---- Liger-Kernel ----
# Subtrees only (COMMIT:PATH): a whole-tree archive would also walk blobs the mirror may lack (large test files).
git --git-dir="$LIGER_GIT" archive --format=tar --prefix=liger_kernel/ "$LIGER_COMMIT:src/liger_kernel" | tar -x -C "$TMP/liger"
git --git-dir="$LIGER_GIT" archive --format=tar --prefix=licenses/ "$LIGER_COMMIT:licenses" | tar -x -C "$TMP/liger"
git --git-dir="$LIGER_GIT" show "$LIGER_COMMIT:LICENSE" > "$TMP/liger/LICENSE"
git --git-dir="$LIGER_GIT" show "$LIGER_COMMIT:NOTICE" > "$TMP/liger/NOTICE"
L="$TMP/liger/liger_kernel"
mkdir -p "$OUT/liger_kernel/ops/backends"
cp "$L/__init__.py" "$L/utils.py" "$OUT/liger_kernel/"
cp "$L"/ops/*.py "$OUT/liger_kernel/ops/"
cp -r "$L/ops/experimental" "$OUT/liger_kernel/ops/"
cp "$L/ops/backends/__init__.py" "$L/ops/backends/registry.py" "$OUT/liger_kernel/ops/backends/"
cp "$TMP/liger/LICENSE" "$TMP/liger/NOTICE" "$OUT/licenses/Liger-Kernel/"
cp -r "$TMP/liger/licenses/." "$OUT/licenses/Liger-Kernel/"

# ---- ml-cross-entropy ----
git --git-dir="$CCE_GIT" archive --format=tar --prefix=cut_cross_entropy/ "$CCE_COMMIT:cut_cross_entropy" | tar -x -C "$TMP/cce"
git --git-dir="$CCE_GIT" show "$CCE_COMMIT:LICENSE" > "$TMP/cce/LICENSE"
git --git-dir="$CCE_GIT" show "$CCE_COMMIT:ACKNOWLEDGEMENTS.md" > "$TMP/cce/ACKNOWLEDGEMENTS.md"
cp -r "$TMP/cce/cut_cross_entropy" "$OUT/"
rm -rf "$OUT/cut_cross_entropy/transformers"
cp "$TMP/cce/LICENSE" "$TMP/cce/ACKNOWLEDGEMENTS.md" "$OUT/licenses/ml-cross-entropy/"

find "$OUT" \( -name '__pycache__' -o -name '*.pyc' -o -name '*.md' -path '*/liger_kernel/*' \) -prune -exec rm -rf {} +
[[ -f "$OUT/liger_kernel/ops/fused_linear_cross_entropy.py" ]] || die "no ops/fused_linear_cross_entropy.py in Liger-Kernel $LIGER_COMMIT"
[[ -f "$OUT/cut_cross_entropy/linear_cross_entropy.py" ]] || die "no cut_cross_entropy/linear_cross_entropy.py in ml-cross-entropy $CCE_COMMIT"

describe() {  # GIT_DIR COMMIT
  git --git-dir="$1" log -1 --format='%H (%cI) %s' "$2"
}
{
  echo "Python peers carried by the GPU bundle (bench/gpu/pylib.sh); put on PYTHONPATH by run.sh's peers stage."
  echo "liger_kernel       https://github.com/linkedin/Liger-Kernel  $(describe "$LIGER_GIT" "$LIGER_COMMIT")"
  echo "                   src/liger_kernel: package root, ops/*.py, ops/experimental, ops/backends/{__init__,registry}.py"
  echo "                   (left out: ops/cutile, ops/cutedsl, ops/cute, ops/backends/_ascend, transformers, chunked_loss, megatron)"
  echo "                   license: BSD-2-Clause, licenses/Liger-Kernel/"
  echo "cut_cross_entropy  https://github.com/apple/ml-cross-entropy  $(describe "$CCE_GIT" "$CCE_COMMIT")"
  echo "                   cut_cross_entropy without transformers/; license: Apple's (licenses/ml-cross-entropy/LICENSE)"
} > "$OUT/VERSIONS.txt"
echo "pylib.sh: $OUT: liger_kernel ${LIGER_COMMIT:0:12}, cut_cross_entropy ${CCE_COMMIT:0:12}, $(du -sh "$OUT" | cut -f1)"
