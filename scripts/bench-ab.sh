#!/usr/bin/env bash
# A/B of two builds of the master on the same machine, interleaved: server CPU per operation,
# throughput and latency of one workload, through the `hamaster-bench` load generator of this
# checkout. Each round starts a fresh 3-master cluster (127.0.0.1, free ports, temp data, default
# timing, fsync on) from each build in turn (A, B, A, B, ...), so a drift of the machine's load hits
# both alike. Prints one line per round and case and the median per case; asserts nothing.
#   scripts/bench-ab.sh --a DIR --b DIR [--workload write] [--shape spread] [-c 1,16,64,256]
#                       [--duration 6] [--rounds 2] [--a-env 'K=V ...'] [--b-env 'K=V ...']
# DIR is a checkout (e.g. a `git worktree add /tmp/old REV`) whose Release server is built
# (`dotnet build src/HaMaster.Server -c Release`); --a and --b may name the same checkout when
# --a-env/--b-env (environment variables of that build's masters) are what is compared.
# Stops only the PIDs it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
a=""; b=""; a_env=""; b_env=""; workload=write; shape=spread; conc=1,16,64,256; dur=6; rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --a) a=$2; shift ;;
    --b) b=$2; shift ;;
    --a-env) a_env=$2; shift ;;
    --b-env) b_env=$2; shift ;;
    --workload) workload=$2; shift ;;
    --shape) shape=$2; shift ;;
    -c) conc=$2; shift ;;
    --duration) dur=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for d in "$a" "$b"; do
  [ -n "$d" ] && [ -f "$d/src/HaMaster.Server/bin/Release/net10.0/hamaster-server.dll" ] ||
    { echo "--a and --b: checkouts with a Release build of src/HaMaster.Server (missing: '$d')" >&2; exit 2; }
done
for tool in jq curl; do
  command -v "$tool" >/dev/null || { apt-get install -y "$tool" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$tool" >/dev/null 2>&1; }; }
done
dotnet build bench/HaMaster.Bench.Load -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
load="$root/bench/HaMaster.Bench.Load/bin/Release/net10.0/hamaster-bench.dll"

work=$(mktemp -d /tmp/hamaster-ab.XXXXXX)
declare -A PID=()
stop_all() {
  for n in "${!PID[@]}"; do
    kill "${PID[$n]}" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${PID[$n]}" 2>/dev/null || true
    wait "${PID[$n]}" 2>/dev/null || true
    unset "PID[$n]"
  done
}
trap 'stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

source "$root/scripts/free-ports.sh"

run_build() { # run_build LABEL DIR ROUND ENV -> JSON rows appended to $work/rows.jsonl
  local label=$1 dir=$2 round=$3 extra_env=$4 members="" endpoints="" pids="" i
  read -r -a p <<<"$(free_ports 9)"
  for i in 1 2 3; do
    members+="${members:+,}$i=127.0.0.1:${p[$((i - 1))]}/127.0.0.1:${p[$((i + 2))]}/127.0.0.1:${p[$((i + 5))]}"
    endpoints+="${endpoints:+,}127.0.0.1:${p[$((i - 1))]}"
  done
  for i in 1 2 3; do
    # shellcheck disable=SC2086 # word splitting of K=V pairs intended
    env DOTNET_GCgen0size=0x10000000 $extra_env dotnet "$dir/src/HaMaster.Server/bin/Release/net10.0/hamaster-server.dll" --id "$i" --members "$members" \
      --data-dir "$work/$label-$round-$i" --client-port "${p[$((i - 1))]}" --peer-port "${p[$((i + 2))]}" --web-port "${p[$((i + 5))]}" \
      >"$work/$label-$round-$i.log" 2>&1 &
    PID[m$i]=$!
    pids+="${pids:+,}${PID[m$i]}"
  done
  local deadline=$(( $(date +%s) + 60 ))
  until curl -s -m 2 "http://127.0.0.1:${p[6]}/api/status" 2>/dev/null | jq -e '.leaderId > 0' >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "[ab] $label: no leader within 60 s" >&2; stop_all; return 1; }
    sleep 0.2
  done
  # Warm-up (JIT, connections), discarded.
  dotnet "$load" --masters "$endpoints" --json --workload "$workload" --shape "$shape" -c 16 --duration 10s --warmup 0s >/dev/null 2>&1 || true
  if dotnet "$load" --masters "$endpoints" --json --workload "$workload" --shape "$shape" --server-pids "$pids" -c "$conc" --duration "${dur}s" --warmup 2s >"$work/round.json" 2>"$work/round.err"; then
    jq -c --arg b "$label" --argjson r "$round" '(if type == "array" then .[] else . end) | {build:$b, round:$r, c:.concurrency, ops:.opsPerSecond, p50:.p50Ms, p99:.p99Ms, cpu:.serverCpuMsPerOp, gen:.generatorCpuCores, sat:.generatorSaturated, errors:.errors}' \
      "$work/round.json" | tee -a "$work/rows.jsonl"
  else
    echo "[ab] $label round $round failed: $(head -c 300 "$work/round.err")" >&2
  fi
  stop_all
}

echo "[ab] A=$a ${a_env:+($a_env) }B=$b ${b_env:+($b_env) }workload=$workload shape=$shape c=$conc ${dur}s x $rounds rounds at $(uptime | sed 's/.*load average: /load /')"
for r in $(seq 1 "$rounds"); do
  run_build A "$a" "$r" "$a_env"
  run_build B "$b" "$r" "$b_env"
done
echo "[ab] medians over rounds (server CPU ms/op over all three masters; ops/s; p50 ms)"
jq -s -r 'group_by(.c)[] | . as $g | [ "A", "B" ] | map(. as $b | [$g[] | select(.build == $b)]) |
  def med(f): (map(f) | sort) as $s | if ($s | length) == 0 then null else $s[(($s | length) - 1) / 2 | floor] end;
  "c=\($g[0].c): cpu A \(.[0] | med(.cpu)) B \(.[1] | med(.cpu)) (B/A \(((.[1] | med(.cpu)) / (.[0] | med(.cpu)) * 100 | round) / 100)); ops/s A \(.[0] | med(.ops)) B \(.[1] | med(.ops)); p50 A \(.[0] | med(.p50)) B \(.[1] | med(.p50))"' "$work/rows.jsonl"
