#!/usr/bin/env bash
# Soak of the host-level simulation (issue 21): runs many seeds, in chunks, and prints the crash
# points reached. A failing seed prints the command that replays it.
#   scripts/hostsim-soak.sh                 seeds 1..20000
#   scripts/hostsim-soak.sh 20001 5000      seeds 20001..25000
#   HAMASTER_HOSTSIM_BUG=skip-log-term-check scripts/hostsim-soak.sh 1 200   with an injected bug
set -uo pipefail
cd "$(dirname "$0")/.."
start=${1:-1}; count=${2:-20000}; chunk=${CHUNK:-1000}
dotnet build tests/HaMaster.Server.Tests -c Release --nologo -v quiet -clp:ErrorsOnly || exit 1
export HAMASTER_ARTIFACTS=${HAMASTER_ARTIFACTS:-$(pwd)/artifacts/hostsim-soak}
mkdir -p "$HAMASTER_ARTIFACTS"; rm -f "$HAMASTER_ARTIFACTS/hostsim.txt"
failed=0; began=$(date +%s)
for ((s = start; s < start + count; s += chunk)); do
  n=$(( start + count - s < chunk ? start + count - s : chunk ))
  if ! HAMASTER_HOSTSIM_SEEDS="$s:$n" dotnet test tests/HaMaster.Server.Tests -c Release --no-build --nologo \
      --filter "FullyQualifiedName~HostSimulationTests.Seeds" --logger "console;verbosity=minimal" > "$HAMASTER_ARTIFACTS/chunk-$s.log" 2>&1; then
    failed=1; grep -E "seed [0-9]+, step|replay:" "$HAMASTER_ARTIFACTS/chunk-$s.log" | head -20
  fi
  echo "[hostsim] seeds $s..$((s + n - 1)) done ($(( $(date +%s) - began )) s)"
done
cat "$HAMASTER_ARTIFACTS/hostsim.txt"
exit $failed
