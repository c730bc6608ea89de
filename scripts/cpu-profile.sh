#!/usr/bin/env bash
# Server CPU per operation of a local three-master HaMaster cluster (issue 19), from /proc.
# Starts 3 masters on 127.0.0.1 (fsync on, default options, the same GC setting as bench.sh),
# runs the chosen load shapes with the load generator `hamaster-bench` (bench/HaMaster.Bench.Load)
# and prints, per shape and repeat: ops/s, server CPU per op (utime+stime of the three master PIDs over the measured window) and each
# master's share of a core; the idle shape prints each master's % of a core with no load.
#
#   scripts/cpu-profile.sh [options]
#     --shapes LIST     comma list of idle,write1,write16,read16 (default all four)
#     --via all|leader  all (default): round-robin over every master, so 2/3 of the writes are
#                       forwarded by followers and 2/3 of the reads go through follower ReadIndex;
#                       leader: everything to the leader
#     --duration S      measured seconds per run (default 3)
#     --repeat N        runs per shape (default 3)
#     --idle-seconds S  length of one idle measurement (default 10: /proc counts 10 ms ticks)
#     --trace ROLE      leader|follower: also sample that master's CPU during the last (warmest) run of each
#                       shape and print its top frames: `perf record -g` (managed names through
#                       DOTNET_PerfMapEnabled=1, set on every master when tracing) where perf works,
#                       else dotnet-trace's dotnet-sampled-thread-time (wall clock: waits included)
#     --counters        also print gen0 GC counts per op (dotnet-counters, first run of each shape)
#     --env K=V         an environment variable for the masters only (repeatable), e.g.
#                       --env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 to try a runtime knob
#     --etcd            run the same shapes against a 3-member etcd (Debian etcd-server) instead
#     --data-root DIR   the masters' data directories go under DIR (default: the work dir). On a
#                       machine whose disk is shared with other loads, /dev/shm keeps their
#                       fsyncs from dominating the latency, so runs stay comparable (fsync is still
#                       called); CPU per op then leaves out the disk's own kernel work
#     --keep DIR        keep data, logs and traces under DIR (default: a temp dir, removed)
# Stops only the PIDs it started. Never part of the test suite; measurements are noisy on a
# shared machine: repeat and look at the spread.
# No -e: one failed run (a timeout on a loaded machine) is reported and the next one goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
server="$root/src/HaMaster.Server/bin/Release/net10.0/hamaster-server.dll"
load="$root/bench/HaMaster.Bench.Load/bin/Release/net10.0/hamaster-bench.dll"
dntools=${DNTOOLS:-/tmp/dntools}

shapes="idle,write1,write16,read16"; via=all; dur=3; idle_secs=10; repeat=3; trace=""; counters=0; target=hamaster; keep=""; server_env=(); data_root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shapes) shapes=$2; shift 2 ;;
    --via) via=$2; shift 2 ;;
    --duration) dur=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --idle-seconds) idle_secs=$2; shift 2 ;;
    --trace) trace=$2; shift 2 ;;
    --counters) counters=1; shift ;;
    --etcd) target=etcd; shift ;;
    --env) server_env+=("$2"); shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --data-root) data_root=$2; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$via" in all|leader) ;; *) echo "--via is all or leader" >&2; exit 2 ;; esac
[ -f "$load" ] || { echo "build first: dotnet build src/HaMaster.Server -c Release && dotnet build bench/HaMaster.Bench.Load -c Release" >&2; exit 2; }

# A fresh cluster each time: a master remembers its members' (old) ports in its data directory.
if [ -n "$keep" ]; then work=$keep; mkdir -p "$work"; rm -rf "$work"/master-* "$work"/etcd-*; else work=$(mktemp -d /tmp/cpu-profile.XXXXXX); fi
declare -A PID=()
cleanup() {
  for k in "${!PID[@]}"; do
    local p=${PID[$k]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  [ -n "$keep" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -n "$data_root" ]; then data=$(mktemp -d "$data_root/cpu-profile-data.XXXXXX"); else data=$work; fi
cleanup_data() { [ "$data" = "$work" ] || rm -rf "$data"; }
trap 'cleanup; cleanup_data' EXIT

source "$root/scripts/free-ports.sh"
read -r -a ports <<<"$(free_ports 9)"
hz=$(getconf CLK_TCK)
# utime+stime (clock ticks) of one pid
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
wait_until() { local deadline=$(( $(date +%s) + $1 )); shift; while [ "$(date +%s)" -lt "$deadline" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

if [ "$target" = hamaster ]; then
  members=""; endpoints=""
  for i in 1 2 3; do
    members+="${members:+,}$i=127.0.0.1:${ports[$((i - 1))]}/127.0.0.1:${ports[$((i + 2))]}/127.0.0.1:${ports[$((i + 5))]}"
    endpoints+="${endpoints:+,}127.0.0.1:${ports[$((i - 1))]}"
  done
  # Tracing: perf finds JIT-compiled code's names in /tmp/perf-PID.map only when that code is not
  # double-mapped (W^X), so tracing turns W^X off too.
  perfmap=0; wx=1; [ -n "$trace" ] && { perfmap=1; wx=0; }
  for i in 1 2 3; do
    env DOTNET_PerfMapEnabled=$perfmap DOTNET_EnableWriteXorExecute=$wx DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x10000000} "${server_env[@]}" nohup dotnet "$server" --id "$i" --members "$members" --data-dir "$data/master-$i" \
      --client-port "${ports[$((i - 1))]}" --peer-port "${ports[$((i + 2))]}" --web-port "${ports[$((i + 5))]}" >"$work/master-$i.log" 2>&1 &
    PID[$i]=$!
  done
  role() { curl -s -m 2 "http://127.0.0.1:${ports[$(($1 + 5))]}/api/status" | jq -r .role 2>/dev/null; }
  leader() { for i in 1 2 3; do [ "$(role "$i")" = leader ] && { echo "$i"; return 0; }; done; return 1; }
  wait_until 120 leader || { echo "no leader" >&2; tail -n 20 "$work"/master-*.log >&2; exit 1; }
  lead=$(leader)
  echo "[cpu] HaMaster masters pids ${PID[1]} ${PID[2]} ${PID[3]}; leader is master $lead; clients via $via"
else
  etcd_endpoints=""; cluster=""
  for i in 1 2 3; do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[$((i + 2))]}"
    etcd_endpoints+="${etcd_endpoints:+,}127.0.0.1:${ports[$((i - 1))]}"
  done
  for i in 1 2 3; do
    nohup etcd --name "e$i" --data-dir "$data/etcd-$i" --listen-client-urls "http://127.0.0.1:${ports[$((i - 1))]}" \
      --advertise-client-urls "http://127.0.0.1:${ports[$((i - 1))]}" --listen-peer-urls "http://127.0.0.1:${ports[$((i + 2))]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${ports[$((i + 2))]}" --initial-cluster "$cluster" \
      --initial-cluster-state new >"$work/etcd-$i.log" 2>&1 &
    PID[$i]=$!
  done
  endpoints=$etcd_endpoints
  wait_until 60 curl -sf -m 2 "http://127.0.0.1:${ports[0]}/health" || { echo "no etcd" >&2; exit 1; }
  lead=1
  echo "[cpu] etcd members pids ${PID[1]} ${PID[2]} ${PID[3]}"
fi
sleep 15 # let start-up work (tiered JIT, first elections, connections) settle before the idle figure

follower=$(( lead % 3 + 1 ))
traced=""; [ "$trace" = leader ] && traced=$lead; [ "$trace" = follower ] && traced=$follower

# Samples the masters' ticks every 50 ms until the file $work/stop-sampler exists.
sampler() {
  : >"$work/samples"
  # Also ends if this script is gone (killed) or its work dir with it.
  while [ ! -e "$work/stop-sampler" ] && [ -d "$work" ] && kill -0 $$ 2>/dev/null; do
    echo "$(date +%s.%N) $(ticks "${PID[1]}") $(ticks "${PID[2]}") $(ticks "${PID[3]}")" >>"$work/samples"
    sleep 0.05
  done
}

report_gc() { # report_gc CSV OPS
  [ -s "$1" ] || return 0
  awk -F, -v ops="$2" 'index($0, "gen-0-gc-count") || index($0, "Gen 0 GC Count") || index($0, "dotnet.gc.collections") { n[$1] = 1; v += $NF }
    END { if (ops > 0) printf "    gen0-ish GC collections counted: %d (%.4f per op)\n", v, v / ops }' "$1"
}

run_shape() { # run_shape SHAPE RUN
  local shape=$1 run=$2 workload c
  case "$shape" in
    write1) workload=write; c=1 ;;
    write16) workload=write; c=16 ;;
    read16) workload=read; c=16 ;;
    *) echo "unknown shape $shape" >&2; return 1 ;;
  esac
  # The bench's client shapes: spread (round-robin over every member) or leader.
  local viaargs=(--shape spread); [ "$via" = leader ] && viaargs=(--shape leader)
  local tpid="" cpid=""
  if [ "$run" = "$repeat" ] && [ -n "$traced" ]; then start_trace "$shape" $((dur + 2)); tpid=$!; fi
  if [ "$run" = 1 ] && [ "$counters" = 1 ] && [ "$target" = hamaster ]; then
    "$dntools/dotnet-counters" collect -p "${PID[$lead]}" --counters System.Runtime --refresh-interval 1 --format csv \
      -o "$work/$shape-counters.csv" --duration "00:00:00:$(printf %02d $((dur + 2)))" >/dev/null 2>&1 &
    cpid=$!
  fi
  rm -f "$work/stop-sampler"; sampler & local spid=$!
  local bstart; bstart=$(date +%s.%N)
  local gen_before; gen_before=$(awk '{print $14 + $15}' /proc/self/stat)
  dotnet "$load" --masters "$endpoints" --json --target "$target" --workload "$workload" -c "$c" --duration "${dur}s" --warmup 1s "${viaargs[@]}" \
    >"$work/bench.json" 2>"$work/bench.err" &
  local bpid=$!
  local gen_ticks=0
  while kill -0 "$bpid" 2>/dev/null; do gen_ticks=$(ticks "$bpid"); sleep 0.2; done
  wait "$bpid" || true
  local bend; bend=$(date +%s.%N)
  touch "$work/stop-sampler"; wait "$spid" || true
  [ -n "$tpid" ] && { wait "$tpid" || true; }
  [ -n "$cpid" ] && { wait "$cpid" || true; }
  # One round prints an object (several print an array).
  jq -c 'if type == "array" then .[0] else . end' "$work/bench.json" >"$work/round.json" 2>/dev/null || true
  if ! jq -e '.operations > 0' "$work/round.json" >/dev/null 2>&1; then echo "  $shape run $run: bench failed: $(head -c 300 "$work/bench.err")"; return 0; fi
  local ops secs errs
  ops=$(jq '.operations' "$work/round.json"); secs=$(jq '.seconds' "$work/round.json"); errs=$(jq '.errors' "$work/round.json")
  # The measured window is the last `secs` seconds before the bench finished measuring (its exit,
  # less ~50 ms of teardown); CPU over it is interpolated from the 50 ms samples.
  awk -v from="$(echo "$bend - 0.05 - $secs" | bc)" -v to="$(echo "$bend - 0.05" | bc)" -v ops="$ops" -v secs="$secs" -v hz="$hz" \
      -v shape="$shape" -v run="$run" -v errs="$errs" -v gen="$gen_ticks" -v lead="$lead" -v idle="$idle_cores" '
    function at(t, k,   i) { # interpolated ticks of column k at time t
      for (i = 2; i <= n; i++) if (T[i] >= t) break
      if (i > n) i = n
      if (T[i] == T[i-1]) return V[i,k]
      return V[i-1,k] + (V[i,k] - V[i-1,k]) * (t - T[i-1]) / (T[i] - T[i-1])
    }
    { n++; T[n] = $1; for (k = 1; k <= 3; k++) V[n,k] = $(k + 1) }
    END {
      total = 0; per = ""
      for (k = 1; k <= 3; k++) { d = (at(to, k) - at(from, k)) / hz; total += d; per = per sprintf(" m%d%s %3.0f%%", k, (k == lead ? "(L)" : ""), 100 * d / secs) }
      above = ""
      if (idle != "") above = sprintf(" (%.3f above idle)", 1000 * (total - idle * secs) / ops)
      printf "  %-8s run %d: %6.0f ops/s  server CPU %.3f ms/op%s (%.2f cores)  %s  errors %d  generator %.1f cpu-s\n",
        shape, run, ops / secs, 1000 * total / ops, above, total / secs, per, errs, gen / hz
    }' "$work/samples"
  [ "$run" = 1 ] && [ -n "$cpid" ] && report_gc "$work/$shape-counters.csv" "$ops"
  [ -n "$tpid" ] && report_trace "$shape"
  return 0
}

use_perf=0; [ -n "$trace" ] && perf record -q -o /dev/null -- true >/dev/null 2>&1 && use_perf=1
start_trace() { # start_trace SHAPE SECONDS (in the background; $! is its pid)
  if [ "$use_perf" = 1 ]; then
    timeout -s INT "$2" perf record -F 499 -g -p "${PID[$traced]}" -o "$work/$1-master-$traced.perf" >"$work/trace-$1.log" 2>&1 &
    return 0
  fi
  "$dntools/dotnet-trace" collect -p "${PID[$traced]}" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf %02d "$2")" \
    -o "$work/$1-master-$traced.nettrace" >"$work/trace-$1.log" 2>&1 &
}

report_trace() { # report_trace SHAPE: top frames of the sample
  if [ "$use_perf" = 1 ] && [ -f "$work/$1-master-$traced.perf" ]; then
    echo "    perf: master $traced ($trace), self time by thread:"
    perf report -i "$work/$1-master-$traced.perf" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -15 | sed 's/^/    /'
    echo "    self time by symbol:"
    perf report -i "$work/$1-master-$traced.perf" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -40 | sed 's/^/    /'
    echo "    inclusive (children) by symbol:"
    perf report -i "$work/$1-master-$traced.perf" --children --sort sym --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -60 | sed 's/^/    /'
    return 0
  fi
  [ -f "$work/$1-master-$traced.nettrace" ] || return 0
  echo "    top frames of master $traced ($trace), exclusive:"
  "$dntools/dotnet-trace" report "$work/$1-master-$traced.nettrace" topN -n 25 2>/dev/null | sed 's/^/    /' | head -40
  echo "    inclusive:"
  "$dntools/dotnet-trace" report "$work/$1-master-$traced.nettrace" topN -n 40 --inclusive 2>/dev/null | sed 's/^/    /' | head -55
}

idle_shape() { # idle_shape RUN: each master's % of a core with no load, over $idle_secs seconds
  local before=() after=() t0 t1 tpid=""
  if [ "$1" = "$repeat" ] && [ -n "$traced" ]; then start_trace idle "$idle_secs"; tpid=$!; fi
  for i in 1 2 3; do before[$i]=$(ticks "${PID[$i]}"); done
  t0=$(date +%s.%N); sleep "$idle_secs"; t1=$(date +%s.%N)
  for i in 1 2 3; do after[$i]=$(ticks "${PID[$i]}"); done
  local line="  idle     run $1:"
  for i in 1 2 3; do
    line+=$(awk -v d="$(( after[i] - before[i] ))" -v s="$(echo "$t1 - $t0" | bc)" -v hz="$hz" -v i="$i" -v l="$lead" \
      'BEGIN { printf " m%d%s %.1f%%", i, (i == l ? "(L)" : ""), 100 * d / hz / s }')
  done
  echo "$line of a core"
  # The three masters' idle cores, for the loaded shapes' "above idle" figure.
  idle_cores=$(awk -v d="$(( after[1] - before[1] + after[2] - before[2] + after[3] - before[3] ))" -v s="$(echo "$t1 - $t0" | bc)" -v hz="$hz" 'BEGIN { printf "%.4f", d / hz / s }')
  [ -n "$tpid" ] && { wait "$tpid" || true; report_trace idle; }
  return 0
}

idle_cores=""
IFS=, read -r -a shape_list <<<"$shapes"
for shape in "${shape_list[@]}"; do
  for run in $(seq 1 "$repeat"); do
    if [ "$shape" = idle ]; then idle_shape "$run"; else run_shape "$shape" "$run"; fi
  done
done
