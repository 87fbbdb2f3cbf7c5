#!/usr/bin/env bash
# Side-by-side CPU benchmark of Kiln and PyTorch (bench/README.md): builds the runner in Release and
# runs its --compare mode, which alternates Kiln and PyTorch processes group by group and thread count
# by thread count, R rounds over, and prints one Markdown table. Arguments pass through, e.g.
#   bench/run.sh --rounds 3 --threads 1,2 --out bench-results.md
#   bench/run.sh --groups gemm --filter 512 --rounds 1
#   bench/run.sh --no-torch
#   bench/run.sh --groups infer --rounds 5      # inference: Kiln eager/compiled, PyTorch, TorchScript, ONNX Runtime
# The ONNX Runtime peer (group infer) needs onnxruntime-node in bench/peers/node_modules: installed here
# from bench/peers/package-lock.json with `npm ci --ignore-scripts` when npm is present (the linux-x64
# binary ships inside the npm package, so no install script has to download it); --no-ort skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build bench/Kiln.Bench/Kiln.Bench.csproj -c Release -v quiet -nologo >&2
if [[ " $* " != *" --no-ort "* && ! -d bench/peers/node_modules/onnxruntime-node ]] && command -v npm >/dev/null; then
  (cd bench/peers && npm ci --ignore-scripts --no-audit --no-fund >&2) || echo "run.sh: npm ci failed; ONNX Runtime will be reported as not measured" >&2
fi
exec dotnet bench/Kiln.Bench/bin/Release/net10.0/Kiln.Bench.dll --compare "$@"
