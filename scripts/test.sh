#!/usr/bin/env bash
# Runs setup, builds everything, runs every test project, and ends with one summary line:
# "N passed, N failed, N skipped". Exit code 0 only if nothing failed.
#   scripts/test.sh                 all tests
#   scripts/test.sh Raft Journal    only test projects whose name contains one of the words
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

config=${HAMASTER_TEST_CONFIG:-Release}
echo "[test] building HaMaster.sln ($config)"
if ! dotnet build HaMaster.sln -c "$config" --nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
# The host simulation appends its crash-point counts here (passing tests' output is not shown).
export HAMASTER_ARTIFACTS="$root/artifacts"
rm -f "$HAMASTER_ARTIFACTS/hostsim.txt"
passed=0; failed=0; skipped=0; broken=()

# Test projects in the solution, in solution order (cheap unit tests first, clusters last).
mapfile -t projects < <(grep -oE '"tests[/\\][^"]+\.csproj"' HaMaster.sln | tr -d '"' | tr '\\' '/')
for proj in "${projects[@]}"; do
  name=$(basename "$proj" .csproj)
  grep -q '<IsTestProject>false</IsTestProject>' "$proj" && continue
  if [ $# -gt 0 ]; then
    match=0; for w in "$@"; do [[ "$name" == *"$w"* ]] && match=1; done
    [ $match -eq 1 ] || continue
  fi
  echo "[test] $name"
  trx="$results/$name.trx"
  dotnet test "$proj" -c "$config" --no-build --nologo \
    --logger "trx;LogFileName=$trx" --logger "console;verbosity=minimal" 2>&1 | sed 's/^/  /'
  rc=${PIPESTATUS[0]}
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
    p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
    f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
    t=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
    e=$(sed -E 's/.* executed="([0-9]+)".*/\1/' <<<"$counters")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + t - e))
  fi
  if [ "$rc" -ne 0 ]; then
    broken+=("$name")
    # A crashed test host can leave failed=0 in the TRX: count the project as one failure.
    if [ ! -f "$trx" ] || [ "${f:-0}" = "0" ]; then failed=$((failed + 1)); fi
  fi
done

echo
[ -f "$HAMASTER_ARTIFACTS/hostsim.txt" ] && sed 's/^/[test] /' "$HAMASTER_ARTIFACTS/hostsim.txt"
[ ${#broken[@]} -gt 0 ] && echo "[test] failing projects: ${broken[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
