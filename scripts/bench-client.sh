#!/usr/bin/env bash
# Client library benchmark: HaMasterClient (retry pipeline, sessions, routing) vs. a bare gRPC
# channel call against an in-process stub master, through the `hamaster-bench` load generator;
# plus the latency histogram's per-record cost. Prints figures; asserts nothing.
# Usage: scripts/bench-client.sh [--duration 2s]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dotnet build -c Release -nologo -v q "$root/bench/HaMaster.Client.Bench/HaMaster.Client.Bench.csproj" >&2
dotnet "$root/bench/HaMaster.Client.Bench/bin/Release/net10.0/HaMaster.Client.Bench.dll" "$@"
