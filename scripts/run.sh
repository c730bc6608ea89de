#!/usr/bin/env bash
# Starts a local three-master HaMaster cluster on 127.0.0.1 with the embedded RocksDB store,
# waits for a leader and prints the endpoints.
#   scripts/run.sh            start (data under ./.cluster, logs in ./.cluster/master-N.log)
#   scripts/run.sh stop       stop the masters this script started (by their recorded PIDs)
#   scripts/run.sh status     show the cluster
# Ports: client 19200-19202, peer 19300-19302, web 19400-19402 (HAMASTER_BASE_PORT moves them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${HAMASTER_DATA:-$root/.cluster}
base=${HAMASTER_BASE_PORT:-19200}
server="$root/src/HaMaster.Server/bin/Release/net10.0/hamaster-server.dll"
cli="$root/src/HaMaster.Cli/bin/Release/net10.0/hamaster.dll"
masters="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
# The cluster secret: generated on first start (mode 0600), given to the masters as a file and
# to the CLI through its environment variable (neither shows up in ps). --open-status-api: this
# cluster binds 127.0.0.1 only, so the status page in a local browser needs no credential (the
# page's /api/status and /api/cluster answer loopback callers; /api/digest still needs the secret).
secret_file="$data/cluster-secret"
cli_env() {
  if [ -f "$secret_file" ]; then HAMASTER_CLUSTER_SECRET=$(cat "$secret_file") "$@"; else "$@"; fi
}

stop() {
  for pidfile in "$data"/master-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      echo "stopped master $(basename "$pidfile" .pid) (pid $pid)"
    fi
    rm -f "$pidfile"
  done
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  status) cli_env dotnet "$cli" --masters "$masters" cluster status; exit $? ;;
  start) ;;
  *) echo "usage: scripts/run.sh [start|stop|status]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
echo "[run] building (Release)"
dotnet build src/HaMaster.Server -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet build src/HaMaster.Cli -c Release --nologo -v quiet -clp:ErrorsOnly

mkdir -p "$data"
stop >/dev/null
if [ ! -s "$secret_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 >"$secret_file")
  echo "[run] generated the cluster secret in $secret_file"
fi
members=""
for i in 1 2 3; do
  members+="${members:+,}$i=127.0.0.1:$((base + i - 1))/127.0.0.1:$((base + 100 + i - 1))/127.0.0.1:$((base + 200 + i - 1))"
done
# A 64 MiB gen0 budget instead of workstation GC's ~6 MiB (README "Memory and GC"); only the
# environment can set it.
export DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x4000000}
for i in 1 2 3; do
  nohup dotnet "$server" --id "$i" --members "$members" --data-dir "$data/master-$i" \
    --client-port $((base + i - 1)) --peer-port $((base + 100 + i - 1)) --web-port $((base + 200 + i - 1)) \
    --cluster-secret-file "$secret_file" --open-status-api \
    >"$data/master-$i.log" 2>&1 &
  echo $! >"$data/master-$i.pid"
done

# `hamaster` on PATH: a small wrapper around this checkout's CLI that talks to this cluster unless
# HAMASTER_MASTERS says otherwise, with this cluster's secret unless HAMASTER_CLUSTER_SECRET is set.
# First writable of $HAMASTER_BIN_DIR, /usr/local/bin, ~/.local/bin; a `hamaster` there that this
# script did not write is left alone.
install_cli() {
  local dir
  for dir in "${HAMASTER_BIN_DIR:-}" /usr/local/bin "$HOME/.local/bin"; do
    [ -n "$dir" ] || continue
    mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || continue
    if [ -e "$dir/hamaster" ] && ! grep -q "Written by .*scripts/run.sh" "$dir/hamaster" 2>/dev/null; then continue; fi
    cat >"$dir/hamaster.tmp" <<WRAPPER
#!/usr/bin/env bash
# Written by $root/scripts/run.sh: that checkout's hamaster CLI, talking to its local cluster by default.
export HAMASTER_MASTERS=\${HAMASTER_MASTERS:-$masters}
if [ -z "\${HAMASTER_CLUSTER_SECRET:-}" ] && [ -r "$secret_file" ]; then HAMASTER_CLUSTER_SECRET=\$(cat "$secret_file"); export HAMASTER_CLUSTER_SECRET; fi
exec dotnet "$cli" "\$@"
WRAPPER
    chmod +x "$dir/hamaster.tmp" && mv -f "$dir/hamaster.tmp" "$dir/hamaster" && { echo "$dir/hamaster"; return 0; }
  done
  return 1
}
if installed=$(install_cli); then
  case ":$PATH:" in
    *":$(dirname "$installed"):"*) echo "[run] installed the hamaster command: $installed" ;;
    *) echo "[run] installed the hamaster command: $installed (add $(dirname "$installed") to PATH)" ;;
  esac
else
  echo "[run] could not install the hamaster command (no writable bin directory); use: dotnet $cli" >&2
fi

echo "[run] waiting for a leader"
for _ in $(seq 1 120); do
  if out=$(cli_env dotnet "$cli" --masters "$masters" cluster status 2>/dev/null) && grep -qi "leader" <<<"$out"; then
    echo "$out"
    echo
    echo "HaMaster is running: client ports $masters; status pages http://127.0.0.1:$((base + 200))/ (and +1, +2)"
    echo "Try:   hamaster fs mkdir -p /demo && hamaster fs ls /     (hamaster = dotnet $cli with this cluster and its secret)"
    echo "Admin: hamaster cluster status | backup FILE | transfer-leader ID | ..."
    echo "Digest: curl -H \"Authorization: Bearer \$(cat $secret_file)\" http://127.0.0.1:$((base + 200))/api/digest"
    echo "Stop:  scripts/run.sh stop      Logs: $data/master-N.log"
    exit 0
  fi
  sleep 0.5
done
echo "[run] no leader after 60 s; see $data/master-*.log" >&2
tail -n 20 "$data"/master-*.log >&2 || true
exit 1
