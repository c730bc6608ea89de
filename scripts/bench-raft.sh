#!/usr/bin/env bash
# Builds the Raft core benchmark in Release and runs it: committed entries per CPU second and allocations per entry
# for 1, 64 and 1024 outstanding 200-byte proposals on a simulated 3-node cluster. Optional arg: entries per run.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Raft.Bench -c Release -nologo -v q
dotnet bench/HaMaster.Raft.Bench/bin/Release/net10.0/HaMaster.Raft.Bench.dll "$@"
