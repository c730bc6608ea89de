#!/usr/bin/env bash
# Installs everything HaMaster's build, run and tests need on a fresh Debian machine that
# has only the .NET SDK. Idempotent: each step checks first and does nothing if satisfied.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

# Debian packages: Python grpcio + protobuf + protoc for the interop tests, python3-yaml for the
# deployment manifest tests, Node.js + npm for grpc-js interop and playwright-core. (RocksDB needs
# none: the RocksDB NuGet package ships librocksdb.so.)
need=()
for pkg in python3-grpcio python3-protobuf python3-yaml protobuf-compiler; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Debian's Chromium drives the status-page browser test (through npm playwright-core).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm packages of the interop tests (grpc-js client and server scripts).
for dir in tests/*/interop; do
  [ -f "$dir/package.json" ] || continue
  # The marker is written only after a complete install: an install cut short (Ctrl-C, a killed
  # run) leaves node_modules without it, and the next run installs again.
  marker="$dir/node_modules/.hamaster-installed"
  if [ ! -f "$marker" ] || [ "$dir/package.json" -nt "$marker" ] || { [ -f "$dir/package-lock.json" ] && [ "$dir/package-lock.json" -nt "$marker" ]; }; then
    log "npm install in $dir"
    if [ -f "$dir/package-lock.json" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    else
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    fi
    touch "$marker"
  fi
done

# NuGet packages.
log "dotnet restore"
dotnet restore HaMaster.sln --verbosity quiet
log "ready"
