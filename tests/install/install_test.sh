#!/usr/bin/env bash
# `cmake --install` of the build into a temporary prefix, then examples/ configured with
# find_package(Corral) against that prefix: hello (Corral::client), lock and counter
# (Corral::recipes) built and run against a standalone corral-server, and every installed header
# compiled through the installed targets.
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
  include/corral/recipes/mutex.h lib/cmake/Corral/CorralConfig.cmake; do
  [[ -f $work/prefix/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
# No build type (no -O, no -g): the test is whether the installed headers and targets build and
# link; unoptimised, the whole test took 35 s here against 43 s with Release.
cmake -S "$root/examples" -B "$work/examples" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
# Only the examples run below: the main build compiles the others from the same sources (and
# recipes_examples runs them), and building all eleven here took most of this test's 45-55 s.
ninja -C "$work/examples" hello lock counter > "$work/build.log" ||
  { cat "$work/build.log"; exit 1; }
# Every installed header, through the installed targets in one file: none is missing or
# depends on a header that is not installed. (Compiled, not linked: hello, lock and counter
# above link against the installed libraries.)
mkdir -p "$work/headers"
{
  echo 'cmake_minimum_required(VERSION 3.20)'
  echo 'project(CorralHeaders LANGUAGES CXX)'
  echo 'set(CMAKE_CXX_STANDARD 20)'
  echo 'find_package(Corral 0.1 REQUIRED)'
  echo 'add_library(all_headers OBJECT all_headers.cc)'
  echo 'target_link_libraries(all_headers PRIVATE Corral::recipes)'
} > "$work/headers/CMakeLists.txt"
(cd "$work/prefix/include" && find corral -name '*.h' | sort | sed 's/.*/#include <&>/') \
  > "$work/headers/all_headers.cc"
cmake -S "$work/headers" -B "$work/headers/build" -G Ninja -DCMAKE_BUILD_TYPE= \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/headers.log" &&
  ninja -C "$work/headers/build" >> "$work/headers.log" ||
  { cat "$work/headers.log"; echo "FAIL: the installed headers do not compile"; exit 1; }
echo "$(grep -c include "$work/headers/all_headers.cc") installed headers compile"

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

out=$(timeout 30 "$work/examples/lock" "127.0.0.1:$port") || { echo "FAIL: lock: $out"; exit 1; }
echo "$out"
grep -Eq "^first holds /examples/lock-[0-9]+/_c_[0-9a-f]{16}-lock-[0-9]{10}, fencing token [0-9]+$" \
  <<<"$out" || { echo "FAIL: lock did not take the lock"; exit 1; }
grep -q "^second tries: ZOPERATIONTIMEOUT$" <<<"$out" || { echo "FAIL: the lock was not exclusive"; exit 1; }
grep -Eq "^second holds, fencing token [0-9]+ \(larger\)$" <<<"$out" ||
  { echo "FAIL: no larger fencing token"; exit 1; }
out=$(timeout 30 "$work/examples/counter" "127.0.0.1:$port") ||
  { echo "FAIL: counter: $out"; exit 1; }
echo "$out"
grep -q "^counter: 3 at version 1$" <<<"$out" || { echo "FAIL: counter did not count"; exit 1; }
grep -q "^compare_and_set at version 0: ZBADVERSION$" <<<"$out" ||
  { echo "FAIL: a stale compare_and_set was not refused"; exit 1; }
echo "PASS: installed Corral::client and Corral::recipes used by examples/"
