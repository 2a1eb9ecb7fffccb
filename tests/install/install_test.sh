#!/usr/bin/env bash
# `cmake --install` of the build into a temporary prefix, then examples/ configured with
# find_package(Corral) against that prefix, built, and run against a standalone corral-server.
#   tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/corral-install-test.XXXXXX)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
for f in include/corral/client/client.h include/corral/wire/records.h \
  lib/cmake/Corral/CorralConfig.cmake; do
  [[ -f $work/prefix/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
cmake -S "$root/examples" -B "$work/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
ninja -C "$work/examples" > "$work/build.log" || { cat "$work/build.log"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/server/data"
cat > "$work/server/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/server/data
clientPort=$port
clientPortAddress=127.0.0.1
CFG
"$build/bin/corral-server" "$work/server/zoo.cfg" > "$work/server/log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "serving on" "$work/server/log" && break
  sleep 0.05
done
out=$(timeout 20 "$work/examples/hello" "127.0.0.1:$port")
echo "$out"
grep -q "= hello (version 0)" <<<"$out" || { echo "FAIL: hello did not read its node"; exit 1; }
grep -q "watch: event 3 on /hello-" <<<"$out" || { echo "FAIL: no watch event"; exit 1; }
grep -q "set: ZOK, version 1" <<<"$out" || { echo "FAIL: set did not succeed"; exit 1; }
echo "PASS: installed Corral::client used by examples/"
