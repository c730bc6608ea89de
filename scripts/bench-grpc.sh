#!/usr/bin/env bash
# Unary gRPC calls/s and p50/p99 latency at 1 and 64 concurrent calls over one HTTP/2 connection
# (Grpc.AspNetCore on Kestrel, called by Grpc.Net.Client, in one process).
# Usage: scripts/bench-grpc.sh [seconds-per-run=5] [concurrency list=1,64]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Grpc.Bench -c Release --nologo -v quiet >/dev/null
dotnet bench/HaMaster.Grpc.Bench/bin/Release/net10.0/HaMaster.Grpc.Bench.dll "${1:-5}" "${2:-1,64}"
