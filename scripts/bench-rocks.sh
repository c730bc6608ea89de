#!/usr/bin/env bash
# RocksDB layer benchmark: point-get and batched-put rates through HaMaster.Rocks (RocksDbSharp) vs.
# the same loops written in C against the same librocksdb.so (the one the RocksDB NuGet package
# ships), so the difference is the managed layers' per-call cost; plus disk bytes.
# Usage: scripts/bench-rocks.sh [--keys N] [--batch N] [--gets N] [--rounds N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/hamaster-rocks-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

dotnet build -c Release -nologo -v q "$root/bench/HaMaster.Rocks.Bench/HaMaster.Rocks.Bench.csproj" >&2
out="$root/bench/HaMaster.Rocks.Bench/bin/Release/net10.0"
lib="$out/runtimes/linux-x64/native"

# The C baseline is compiled into the temp dir on every run (no binary is ever committed) and
# linked against the package's library; it declares the few C API functions it calls itself.
command -v gcc >/dev/null 2>&1 || { echo "gcc is needed for the native baseline (apt-get install -y gcc)" >&2; exit 1; }
# The library's SONAME (librocksdb.so.MAJOR.MINOR) is not a file in the package: link it in the temp dir.
mkdir -p "$work/lib"
soname="$(objdump -p "$lib/librocksdb.so" | awk '/SONAME/ {print $2}')"
ln -s "$lib/librocksdb.so" "$work/lib/${soname:-librocksdb.so}"
gcc -O2 -Wall -o "$work/rocks_native_bench" "$root/bench/HaMaster.Rocks.Bench/native/rocks_native_bench.c" \
  -L"$lib" -l:librocksdb.so -Wl,-rpath,"$work/lib"

dotnet "$out/HaMaster.Rocks.Bench.dll" --native "$work/rocks_native_bench" --dir "$work/data" "$@"
