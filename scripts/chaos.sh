#!/usr/bin/env bash
# Issue 7's chaos soak: builds the harness (and the master) in Release, then runs N real masters
# behind fault-injecting proxies with concurrent clients while a seeded nemesis kills, pauses,
# partitions, slows, reconfigures and snapshot-forces them; ends with the linearizability and
# invariant checks and a summary. Exit code 0 = pass, 1 = an invariant failed (the summary names
# the seed, the history file and the kept logs), 2 = bad arguments.
#   scripts/chaos.sh [--duration 30m] [--seed N] [--masters 3|5] [--clients N] [--raw-clients N] [--dir D] [--keep]
# Issue 17's overload run instead: 3 masters; for 30 s the leader's client port gets callers within
# capacity (from 127.0.0.3), 10x as many excess callers (from 127.0.0.2: one flooding caller), a
# rapid-reset flood and a half-sent-large-body flood; passes when the term and leader do not change,
# the leader's RSS stays within its bound, served calls within capacity keep p99 < 200 ms and at most
# 2% of them are refused (fair admission), and every refusal comes at once (README, Overload and limits).
#   scripts/chaos.sh --overload [--duration 30s] [--callers N] [--max-calls N] [--dir D]
# Issue 19's failover measurement instead: 3 masters with the server's default timing, 64 closed-loop
# writers spread over them (1 s deadline, a failed writer moves to the next master); a quiet stretch at
# that load counts leader changes (should be 0), then each SIGSTOP of the leader records the longest
# write gap; prints every gap and their median and max (docs/failover.md). The soak above also prints
# the longest write gap of each pause and partition fault, with median and max per kind.
#   scripts/chaos.sh --failover [--quiet 60s] [--pauses 6] [--hold 4s] [--settle 4s] [--writers 64] [--tick-ms N] [--election-ticks N] [--dir D]
# The binaries run from a private copy, so builds started meanwhile cannot replace them under a long soak.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/HaMaster.Chaos -c Release -nologo -v q -clp:ErrorsOnly
bin=$(mktemp -d "${TMPDIR:-/tmp}/hamaster-chaos-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
cp -r src/HaMaster.Server/bin/Release/net10.0 "$bin/server"
cp -r tests/HaMaster.Chaos/bin/Release/net10.0 "$bin/harness"
dotnet "$bin/harness/hamaster-chaos.dll" --server-dll "$bin/server/hamaster-server.dll" "$@"
