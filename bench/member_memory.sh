#!/usr/bin/env bash
# Where a Corral member's memory goes with many znodes: a fresh 3-member ensemble, NODES creates
# of SIZE bytes (corral-load, Apache's C client, 1,000 in flight), then for each member its mode,
# VmRSS, anonymous and huge-page memory (smaps_rollup) and jemalloc's allocated and resident
# bytes (/metrics); then kill -9 of all three, a restart, and the same again.
#
#   bench/member_memory.sh [BUILD_DIR]        (default build)
#
# Environment (defaults): NODES=1000000 SIZE=100 PY=/usr/bin/python3 (with kazoo, for mkpath)
# KEEP=1 keeps the temp dir (the members' logs). bench/compare_ensemble.sh gives the same RSS
# figures beside ZooKeeper's; this one adds the allocator's view of each member.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/local_ensemble.sh
source bench/local_ensemble.sh
build=${1:-build}
NODES=${NODES:-1000000} SIZE=${SIZE:-100} PY=${PY:-/usr/bin/python3}
server=$build/bin/corral-server
for bin in "$server" "$build/bin/corral-load"; do
  [[ -x $bin ]] || { echo "not built: $bin" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/corral-member-memory.XXXXXX")
ports=$("$PY" scripts/port_claims.py pick 12 --owner $$)  # set -e sees a failure
read -r -a ports <<<"$ports"
servers=""
for i in 1 2 3; do servers+="server.$i=127.0.0.1:${ports[i + 2]}:${ports[i + 5]}"$'\n'; done
pids=()
start() { # I: member I on its zoo.cfg, in the background
  "$server" "$work/s$1/zoo.cfg" >>"$work/s$1/server.log" 2>&1 </dev/null &
  pids[$1]=$!
}
cleanup() {
  kill -9 "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${KEEP:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
for i in 1 2 3; do
  # compare_ensemble.sh's member config, plus the /metrics port this script reads.
  write_member_cfg "$work/s$i" "$i" "${ports[i - 1]}" "$servers
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=${ports[i + 8]}"
  start "$i"
done
mode() { srvr_mode "${ports[$1 - 1]}"; }
wait_up() { for i in 1 2 3; do until [[ -n $(mode "$i") ]]; do sleep 0.05; done; done; }
report() { # WHEN
  local i rss mem anon
  for i in 1 2 3; do
    rss=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/${pids[i]}/status")
    anon=$(awk '/^Anonymous:/ { a = $2 } /^AnonHugePages:/ { h = $2 }
                END { printf "anon=%.1f huge=%.1f", a / 1024, h / 1024 }' "/proc/${pids[i]}/smaps_rollup")
    mem=$(curl -s "127.0.0.1:${ports[i + 8]}/metrics" |
      awk '/^corral_allocator_(allocated|resident)_bytes/ { sub("corral_allocator_", "", $1); printf "%s=%.1f ", $1, $2 / 1048576 }')
    echo "$1 member $i ($(mode "$i")): rss=$rss $anon ${mem}(MiB)"
  done
}
wait_up
hp=127.0.0.1:${ports[0]}
"$PY" bench/compare_ensemble.py mkpath "$hp" /mem
"$build/bin/corral-load" "$hp/mem" create "$NODES" "$SIZE" 1000 | tail -1
report loaded
kill -9 "${pids[@]}"
wait 2>/dev/null || true
t0=$(date +%s.%N)
for i in 1 2 3; do start "$i"; done
wait_up
echo "restart of all 3 until each answers srvr: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
report restarted
