#!/usr/bin/env bash
# Training benchmark of Kiln against PyTorch on real Fashion-MNIST (bench/README.md, "train"): for each
# round and workload, one Kiln process and then one PyTorch process (alternating, so a shared machine's
# drifts hit both), each training the same recipe at 2 threads; then one Markdown table.
#   bench/train.sh                          # mlp-b64, mlp-b256 (3 epochs) and cnn-b64 (to 90% test accuracy), 1 round
#   bench/train.sh --rounds 2 --workloads mlp-b64 --out results.md
#   bench/train.sh --workloads cnn-b64 --evals-per-epoch 4   # time to target checked every quarter epoch
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=1 workloads="mlp-b64 mlp-b256 cnn-b64" threads=2 out="" raw="" cnn_epochs=5 mlp_epochs=3 target=0.90 evals=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --workloads) workloads="${2//,/ }"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --cnn-epochs) cnn_epochs="$2"; shift 2 ;;
    --mlp-epochs) mlp_epochs="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --evals-per-epoch) evals="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --raw) raw="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build bench/Kiln.Bench/Kiln.Bench.csproj -c Release -v quiet -nologo >&2
raw="${raw:-$(mktemp)}"
: > "$raw"
for round in $(seq 1 "$rounds"); do
  for w in $workloads; do
    # Several MLP epochs: an MLP epoch is under a second, so its first one is mostly start-up (JIT, and for
    # compiled steps the first trace); the report shows the first epoch and the median of all of them.
    args=(--workload "$w" --epochs "$mlp_epochs")
    [[ "$w" == cnn-* ]] && args=(--workload "$w" --epochs "$cnn_epochs" --target "$target" --evals-per-epoch "$evals")
    echo "round $round: $w kiln" >&2
    # Tiered compilation off: a one-epoch run is a few seconds, and tier-0 code for the dispatcher,
    # autograd and kernels costs a third of it (measured: MLP batch 64, 31-41k images/s with tiering,
    # 56-57k without). The sample sets the same in its project file.
    DOTNET_TieredCompilation=0 KILN_NUM_THREADS="$threads" dotnet bench/Kiln.Bench/bin/Release/net10.0/Kiln.Bench.dll train "${args[@]}" >> "$raw"
    echo "round $round: $w kiln compiled" >&2
    DOTNET_TieredCompilation=0 KILN_NUM_THREADS="$threads" dotnet bench/Kiln.Bench/bin/Release/net10.0/Kiln.Bench.dll train "${args[@]}" --compiled >> "$raw"
    echo "round $round: $w torch" >&2
    /usr/bin/python3 bench/peers/torch_train.py --threads "$threads" "${args[@]}" >> "$raw" || echo "PyTorch run failed" >&2
  done
done
if [[ -n "$out" ]]; then python3 bench/train_report.py "$raw" | tee "$out"; else python3 bench/train_report.py "$raw"; fi
