#!/usr/bin/env bash
# RocksDB binding benchmark: point-get and batched-put rates through HaMaster.Rocks vs. the same
# loops written in C against librocksdb (per-call binding overhead), plus disk bytes.
# Usage: scripts/bench-rocks.sh [--keys N] [--batch N] [--gets N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -f /usr/include/rocksdb/c.h ]; then
  echo "installing librocksdb-dev (header for the native baseline)..." >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y librocksdb-dev; else sudo apt-get install -y librocksdb-dev; fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/hamaster-rocks-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The C baseline is compiled into the temp dir on every run; no binary is ever committed.
gcc -O2 -Wall -o "$work/rocks_native_bench" "$root/bench/HaMaster.Rocks.Bench/native/rocks_native_bench.c" -lrocksdb

dotnet build -c Release -nologo -v q "$root/bench/HaMaster.Rocks.Bench/HaMaster.Rocks.Bench.csproj" >&2
dotnet "$root/bench/HaMaster.Rocks.Bench/bin/Release/net10.0/HaMaster.Rocks.Bench.dll" \
  --native "$work/rocks_native_bench" --dir "$work/data" "$@"
