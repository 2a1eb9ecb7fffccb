#!/usr/bin/env bash
# Side-by-side benchmark: Apache ZooKeeper 3.8 (Debian) and Corral on the same
# machine, same client (bench/load.cc on Apache's C client), one run.
#
#   bench/compare.sh [BUILD_DIR]      (env: NODES=1000000 SIZE=100 INFLIGHT=1000)
#
# For each server: write latency (one request in flight), write and read
# throughput with the server's CPU seconds, a load of NODES znodes of SIZE
# bytes, then kill -9, restart on the same data, and the time until the last
# znode is readable again, with the RSS after recovery. Prints a table with
# Corral/ZooKeeper ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
load=$build/bin/corral-load
corral=$build/bin/corral-server
NODES=${NODES:-1000000}
SIZE=${SIZE:-100}
INFLIGHT=${INFLIGHT:-1000}
ZK_CP=/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
work=$(mktemp -d /tmp/corral-bench.XXXXXX)
declare -A PID RESULT

cleanup() {
  for p in "${PID[@]:-}"; do [[ -n $p ]] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

write_cfg() {  # NAME PORT
  mkdir -p "$work/$1/data"
  cat >"$work/$1/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/$1/data
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
CFG
}

start() {  # NAME
  local name=$1
  if [[ $name == zookeeper ]]; then
    java -cp "$ZK_CP" -Dzookeeper.admin.enableServer=false \
      org.apache.zookeeper.server.ZooKeeperServerMain "$work/$name/zoo.cfg" >>"$work/$name/log" 2>&1 &
  else
    "$corral" "$work/$name/zoo.cfg" >>"$work/$name/log" 2>&1 &
  fi
  PID[$name]=$!
}

cpu_seconds() {  # PID: utime+stime of the process in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

bench_one() {  # NAME
  local name=$1 port hp out t0 t1 c0 c1
  port=$(free_port)
  hp=127.0.0.1:$port
  write_cfg "$name" "$port"
  start "$name"
  "$load" "$hp" probe / 60 >/dev/null
  out=$("$load" "$hp" latency 2000 "$SIZE" | tail -1)
  RESULT[$name.lat_p50]=$(sed -E 's/.*p50=([0-9]+).*/\1/' <<<"$out")
  RESULT[$name.lat_p99]=$(sed -E 's/.*p99=([0-9]+).*/\1/' <<<"$out")
  c0=$(cpu_seconds "${PID[$name]}")
  out=$("$load" "$hp" set 200000 "$SIZE" "$INFLIGHT")
  c1=$(cpu_seconds "${PID[$name]}")
  RESULT[$name.set_ops]=$(sed -E 's/.*ops_per_sec=([0-9]+).*/\1/' <<<"$out")
  RESULT[$name.set_cpu]=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.0f", 200000 / (b - a)}')
  c0=$(cpu_seconds "${PID[$name]}")
  out=$("$load" "$hp" get 500000 "$INFLIGHT")
  c1=$(cpu_seconds "${PID[$name]}")
  RESULT[$name.get_ops]=$(sed -E 's/.*ops_per_sec=([0-9]+).*/\1/' <<<"$out")
  RESULT[$name.get_cpu]=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.0f", 500000 / (b - a)}')
  out=$("$load" "$hp" create "$NODES" "$SIZE" "$INFLIGHT")
  RESULT[$name.create_ops]=$(sed -E 's/.*ops_per_sec=([0-9]+).*/\1/' <<<"$out")
  RESULT[$name.rss_loaded]=$(rss_mib "${PID[$name]}")
  kill -9 "${PID[$name]}"
  wait "${PID[$name]}" 2>/dev/null || true
  t0=$(date +%s.%N)
  start "$name"
  "$load" "$hp" probe "/bench/n$((NODES - 1))" 600 >/dev/null
  t1=$(date +%s.%N)
  RESULT[$name.restart_s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
  RESULT[$name.rss_recovered]=$(rss_mib "${PID[$name]}")
  kill -9 "${PID[$name]}"
  wait "${PID[$name]}" 2>/dev/null || true
  PID[$name]=""
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b == 0) print "-"; else printf "%.2f", a / b }'; }

bench_one zookeeper
bench_one corral

row() {  # LABEL KEY
  printf '| %s | %s | %s | %s |\n' "$1" "${RESULT[zookeeper.$2]}" "${RESULT[corral.$2]}" \
    "$(ratio "${RESULT[corral.$2]}" "${RESULT[zookeeper.$2]}")"
}
echo "NODES=$NODES SIZE=$SIZE INFLIGHT=$INFLIGHT, $(nproc) cores, $(date -u +%F)"
echo "| measure | ZooKeeper 3.8 | Corral | Corral / ZooKeeper |"
echo "|---|---|---|---|"
row "write latency p50, 1 in flight (µs)" lat_p50
row "write latency p99, 1 in flight (µs)" lat_p99
row "setData throughput (ops/s)" set_ops
row "setData per server CPU-second" set_cpu
row "getData throughput (ops/s)" get_ops
row "getData per server CPU-second" get_cpu
row "create throughput while loading (ops/s)" create_ops
row "RSS with $NODES znodes loaded (MiB)" rss_loaded
row "restart after kill -9 until last znode readable (s)" restart_s
row "RSS after recovery (MiB)" rss_recovered
