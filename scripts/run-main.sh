#!/usr/bin/env bash
# The README's main-job command. Until the master-worker demo exists, it starts a
# local 3-server Corral ensemble (client ports 2181, 2182, 2183 on 127.0.0.1) and
# prints how to connect with zkCli.sh and Apache's C client. Ctrl-C stops it.
# CORRAL_PORT changes the first client port (the others follow it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
base=${CORRAL_PORT:-2181}
run_dir=$(mktemp -d /tmp/corral-main.XXXXXX)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
servers=""
for i in 1 2 3; do
  servers+="server.$i=127.0.0.1:$((base + 705 + i)):$((base + 1705 + i))"$'\n'
done
for i in 1 2 3; do
  dir=$run_dir/s$i
  mkdir -p "$dir/data"
  echo "$i" > "$dir/data/myid"
  cat > "$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$((base + i - 1))
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
extendedTypesEnabled=true
$servers
CFG
  build/bin/corral-server "$dir/zoo.cfg" > "$dir/server.log" 2>&1 &
  pids+=($!)
done
hosts="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
# Wait (up to 15 s) until one member says it leads.
for _ in $(seq 150); do
  for i in 0 1 2; do
    if echo srvr | nc -q1 127.0.0.1 $((base + i)) 2>/dev/null | grep -q "Mode: leader"; then
      leader=$((i + 1))
      break 2
    fi
  done
  sleep 0.1
done
cat <<MSG
Corral ensemble of 3 servers on $hosts (leader: server ${leader:-?}; logs and data in $run_dir)
Connect with:
  /usr/share/zookeeper/bin/zkCli.sh -server $hosts
  /usr/lib/zookeeper/bin/cli_mt -h $hosts
  echo srvr | nc 127.0.0.1 $base
Kill a server (kill -9) and watch the others elect a new leader; Ctrl-C stops them all.
MSG
wait
