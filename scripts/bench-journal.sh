#!/usr/bin/env bash
# Builds and runs the Raft journal benchmark (group commit throughput and time-to-durable).
# Usage: scripts/bench-journal.sh [seconds-per-scenario] [directory-on-the-disk-to-measure]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Journal.Bench -c Release -nologo -v quiet
dotnet bench/HaMaster.Journal.Bench/bin/Release/net10.0/HaMaster.Journal.Bench.dll "${1:-3}" "${2:-/tmp}"
