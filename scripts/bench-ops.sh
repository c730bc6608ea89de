#!/usr/bin/env bash
# Backup benchmark (issue 9): offline archive write/verify throughput, then a live
# `hamaster cluster backup` against one master started here (idle and under a writer).
# Usage: scripts/bench-ops.sh [snapshot-MiB=128] [files=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/HaMaster.Ops.Bench -c Release -nologo -v quiet
dotnet build src/HaMaster.Server -c Release -nologo -v quiet

data=$(mktemp -d /tmp/hamaster-bench-ops-XXXXXX)
# Three ports the kernel reports free on 127.0.0.1 (held together so they differ).
read -r client_port peer_port web_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
dotnet src/HaMaster.Server/bin/Release/net10.0/hamaster-server.dll --id 1 --bind 127.0.0.1 \
  --client-port "$client_port" --peer-port "$peer_port" --web-port "$web_port" \
  --data-dir "$data/master-1" --members "1=127.0.0.1:$client_port/127.0.0.1:$peer_port/127.0.0.1:$web_port" \
  > "$data/master.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 300); do
  grep -q "HAMASTER READY" "$data/master.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/master.log"; exit 1; }
  sleep 0.1
done
grep -q "HAMASTER READY" "$data/master.log" || { echo "master did not start"; tail -20 "$data/master.log"; exit 1; }

dotnet bench/HaMaster.Ops.Bench/bin/Release/net10.0/HaMaster.Ops.Bench.dll "${1:-128}" "127.0.0.1:$client_port" "${2:-20000}"
