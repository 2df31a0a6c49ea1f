#!/usr/bin/env bash
# Data-parallel training on this machine's CPU: `linchpin train --objective sft` with one global batch
# of GLOBAL sequences per step, run three ways side by side in one script:
#   1 rank x 1 thread   (--batch-size GLOBAL --threads 1)
#   2 ranks x 1 thread  (--nproc 2 --batch-size GLOBAL/2 --threads 1, Gloo on 127.0.0.1)
#   1 rank x 2 threads  (--batch-size GLOBAL --threads 2): what a user of one 2-core machine runs instead
# on two models: the embedded default (0.9 M parameters) and a random Llama of WIDE x LAYERS (about
# 19 M parameters, 77 MB of gradients per all-reduce) with the default's tokenizer and data.
# Reports trained tokens/s (sum of tokens over sum of step times, the first WARM steps dropped), the
# all-reduce share of a step (allreduce_s / step_s from metrics.jsonl), and that 1 and 2 ranks trained
# the same steps (their losses agree). The peer, in the same run: PyTorch's DistributedDataParallel
# (torchrun, Gloo) on the same checkpoints, data, global batch and steps (bench/ddp_peer.py), the same
# three ways. Writes bench/results/<date>-ddp-cpu.md.
# Usage: bench/run-ddp-cpu.sh   (env: STEPS=20 WARM=3 GLOBAL=8 WIDE=512 LAYERS=6;
#        PYTHON: a python with torch and transformers, default /work/venv/bin/python if present;
#        PEER=0 leaves the PyTorch rows out)
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=1
STEPS=${STEPS:-20}; WARM=${WARM:-3}; GLOBAL=${GLOBAL:-8}; WIDE=${WIDE:-512}; LAYERS=${LAYERS:-6}; PEER=${PEER:-1}
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /work/venv/bin/python ]]; then PYTHON=/work/venv/bin/python; else PYTHON=python3; fi
fi
if [[ "$PEER" == 1 ]] && ! "$PYTHON" -c 'import torch, transformers' 2>/dev/null; then
  echo "run-ddp-cpu: $PYTHON cannot import torch and transformers: PyTorch DDP rows left out (PEER=0)" >&2
  PEER=0
fi

mvn -B -q -Dlinchpin.cuda=OFF -DskipTests test-compile
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
run() { java -cp "$CP" dev.linchpin.cli.Main "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
default=$(run default standard --progress log | sed -n 's/^\(trained\|cached\) //p')
java -cp "$CP" dev.linchpin.bench.RandomModelDir "$default" "$work/wide" "$WIDE" "$LAYERS" $((WIDE * 8 / 3))
load_before=$(uptime)

# train MODEL OUT [options]: a fixed sft run of STEPS steps on the default's training data
train() {
  local model=$1 out=$2; shift 2
  run train --model "$model" --data "$default/data/train.jsonl" --out "$out" --objective sft --steps "$STEPS" \
    --lr 1e-4 --seed 3 --deterministic --progress log "$@" > "$out.log" 2>&1 || { cat "$out.log"; exit 1; }
}

# peer MODEL OUT NPROC THREADS: the PyTorch DDP run of the same steps
peer() {
  local model=$1 out=$2 nproc=$3 threads=$4
  OMP_NUM_THREADS=$threads "$PYTHON" -m torch.distributed.run --standalone --nproc_per_node "$nproc" bench/ddp_peer.py \
    --model "$model" --data "$default/data/train.jsonl" --out "$out" --global-batch "$GLOBAL" --steps "$STEPS" \
    --lr 1e-4 --seed 3 --threads "$threads" > "$out.log" 2>&1 || { cat "$out.log"; exit 1; }
}

summarize() {   # summarize NAME OUT: one table row from metrics.jsonl
  python3 - "$1" "$2/metrics.jsonl" "$WARM" <<'PY'
import json, sys
name, path, warm = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [json.loads(l) for l in open(path)][warm:]
secs = sum(r["step_s"] for r in rows)
toks = sum(r["tokens_per_s"] * r["step_s"] for r in rows)
ar = sum(r.get("allreduce_s", 0.0) for r in rows)
share = f"{100 * ar / secs:.1f} %" if ar else "-"
print(f"| {name} | {toks / secs:,.0f} | {secs / len(rows) * 1000:.0f} | {share} |")
PY
}

losses_agree() {   # losses_agree A B: largest |loss_A - loss_B| over the steps
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY'
import json, sys
a = [json.loads(l)["loss"] for l in open(sys.argv[1])]
b = [json.loads(l)["loss"] for l in open(sys.argv[2])]
assert len(a) == len(b), (len(a), len(b))
print(f"{max(abs(x - y) for x, y in zip(a, b)):.2e}")
PY
}

table=""
for m in default wide; do
  model=$default; [ "$m" = wide ] && model=$work/wide
  train "$model" "$work/$m-1x1" --batch-size "$GLOBAL" --threads 1
  train "$model" "$work/$m-2x1" --batch-size $((GLOBAL / 2)) --threads 1 --nproc 2
  train "$model" "$work/$m-1x2" --batch-size "$GLOBAL" --threads 2
  table+="$(summarize "$m: 1 rank x 1 thread" "$work/$m-1x1")"$'\n'
  table+="$(summarize "$m: 2 ranks x 1 thread (Gloo)" "$work/$m-2x1")"$'\n'
  table+="$(summarize "$m: 1 rank x 2 threads" "$work/$m-1x2")"$'\n'
  table+="| $m: max per-step loss difference, 1 rank vs 2 ranks | $(losses_agree "$work/$m-1x1" "$work/$m-2x1") | | |"$'\n'
  if [[ "$PEER" == 1 ]]; then
    peer "$model" "$work/$m-torch-1x1" 1 1
    peer "$model" "$work/$m-torch-2x1" 2 1
    peer "$model" "$work/$m-torch-1x2" 1 2
    table+="$(summarize "$m: PyTorch, 1 rank x 1 thread" "$work/$m-torch-1x1")"$'\n'
    table+="$(summarize "$m: PyTorch DDP, 2 ranks x 1 thread (Gloo)" "$work/$m-torch-2x1")"$'\n'
    table+="$(summarize "$m: PyTorch, 1 rank x 2 threads" "$work/$m-torch-1x2")"$'\n'
    table+="| $m: PyTorch max per-step loss difference, 1 rank vs 2 ranks | $(losses_agree "$work/$m-torch-1x1" "$work/$m-torch-2x1") | | |"$'\n'
  fi
done
load_after=$(uptime)

stamp=$(date -u +%Y-%m-%d)
mkdir -p bench/results
out=bench/results/$stamp-ddp-cpu.md
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "# Data-parallel training on the CPU ($stamp)"
  echo
  echo "Command: \`bench/run-ddp-cpu.sh\` (STEPS=$STEPS WARM=$WARM GLOBAL=$GLOBAL WIDE=$WIDE LAYERS=$LAYERS)."
  echo "Machine: $cpu, $(nproc) cores. Load before: \`$load_before\`; after: \`$load_after\`."
  echo "Every run: sft on the embedded default's training data, global batch $GLOBAL sequences, --deterministic,"
  echo "first $WARM steps dropped. Models: the embedded default ($(python3 -c "import json;c=json.load(open('$default/config.json'));print(c['hidden_size'],'wide,',c['num_hidden_layers'],'layers')"))"
  echo "and a random Llama, $WIDE wide, $LAYERS layers, the default's vocabulary."
  [[ "$PEER" == 1 ]] && echo "PyTorch rows: bench/ddp_peer.py ($("$PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')), DDP over Gloo via torchrun; no all-reduce share (DDP overlaps it with backward)."
  echo
  echo "| run | trained tokens/s | ms per step | all-reduce share of a step |"
  echo "|---|---|---|---|"
  printf '%s' "$table"
} > "$out"
cat "$out"
