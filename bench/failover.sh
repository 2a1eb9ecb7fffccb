#!/usr/bin/env bash
# Failover time of a 3-server ensemble: kill -9 of the leader -> next acknowledged write, as
# seen by one client connected to all servers writing setData in a tight loop. The work is
# done by corral-failover (bench/failover.cc); this picks the build and the implementation.
#
#   bench/failover.sh [zookeeper|corral|both] [ROUNDS] [BUILD_DIR]
#
# Defaults: zookeeper, 5 rounds, build. Environment: SESSION_MS (the client's session timeout,
# default 10000; the C client waits SESSION_MS/60 after each pass over all servers), TICK_MS
# (tickTime, default 500), ENSEMBLE_KEEP=1 keeps the servers' directories and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
impl=${1:-zookeeper}
rounds=${2:-5}
build=${3:-build}
tool=$build/bin/corral-failover
if [[ ! -x $tool ]]; then
  echo "missing $tool: ninja -C $build corral-failover" >&2
  exit 1
fi
run() {
  if [[ $1 == corral && ! -x $build/bin/corral-server ]]; then
    echo "missing $build/bin/corral-server: ninja -C $build corral-server" >&2
    return 1
  fi
  if [[ $1 == zookeeper ]] && ! command -v java >/dev/null; then
    echo "no java: Apache ZooKeeper needs Debian's zookeeper and default-jre-headless" >&2
    return 1
  fi
  CORRAL_SERVER=$PWD/$build/bin/corral-server "$tool" "$1" "$rounds" \
    --session-ms "${SESSION_MS:-10000}" --tick-ms "${TICK_MS:-500}"
}
case $impl in
  zookeeper | corral) run "$impl" ;;
  both) run zookeeper && run corral ;;
  *)
    echo "usage: $0 [zookeeper|corral|both] [ROUNDS] [BUILD_DIR]" >&2
    exit 2
    ;;
esac
