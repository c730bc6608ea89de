#!/usr/bin/env bash
# End-to-end figures of a real three-master cluster on loopback: sequential write latency via the
# leader and via a follower, concurrent-writer throughput (group commit), read latency by
# consistency, and the write pause of a leader SIGKILL.
# Usage: scripts/bench-cluster.sh [sequential-ops=300] [concurrent-writers=16] [concurrent-ops=3000]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Cluster.Bench -c Release --nologo -v quiet >/dev/null
dotnet bench/HaMaster.Cluster.Bench/bin/Release/net10.0/HaMaster.Cluster.Bench.dll "${1:-300}" "${2:-16}" "${3:-3000}"
