#!/usr/bin/env bash
# Side-by-side CPU benchmark of Kiln and PyTorch (bench/README.md): builds the runner in Release and
# runs its --compare mode, which alternates Kiln and PyTorch processes group by group and thread count
# by thread count, R rounds over, and prints one Markdown table. Arguments pass through, e.g.
#   bench/run.sh --rounds 3 --threads 1,2 --out bench-results.md
#   bench/run.sh --groups gemm --filter 512 --rounds 1
#   bench/run.sh --no-torch
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build bench/Kiln.Bench/Kiln.Bench.csproj -c Release -v quiet -nologo >&2
exec dotnet bench/Kiln.Bench/bin/Release/net10.0/Kiln.Bench.dll --compare "$@"
