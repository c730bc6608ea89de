#!/usr/bin/env bash
# Metadata state machine benchmark: apply throughput (creates/s), GetStatus/ListStatus throughput,
# RSS and disk bytes per inode. Default 1M inodes; e.g. `scripts/bench-metadata.sh --inodes 10m`
# (or 100m for the scale run; needs ~20 GB of disk). Other options: --kind rocks|heap, --cache N, --dir PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Metadata.Bench -c Release -v q -nologo >/dev/null
exec dotnet bench/HaMaster.Metadata.Bench/bin/Release/net10.0/HaMaster.Metadata.Bench.dll "$@"
