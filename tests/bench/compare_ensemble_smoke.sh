#!/usr/bin/env bash
# CI smoke run of bench/compare_ensemble.sh (issue 13's ensemble comparison) on 3 voters and an
# observer: three workloads (the watch fan-out with 30 sessions) for a second each, one round
# without the warm-up round, 2,000 znodes. It passes when the table has every expected
# row and each row has a number above zero for both ZooKeeper and Corral: both ensembles
# served every workload with both clients, and memory, restart and rejoin were measured.
# ZooKeeper's JVMs run with the e2e tests' flags (small heap, serial GC, C1 only; tests/e2e/
# ensemble.cc), not the JVM defaults of a real comparison: the smoke checks the script, not
# ZooKeeper's speed, and the defaults cost 84 CPU-s against 50 (thirteen JVM starts).
#
#   compare_ensemble_smoke.sh SOURCE_DIR BUILD_DIR   (CORRAL_SERVER/BENCH/LOAD may be set)
set -euo pipefail
src=$1
build=$2
out=$(mktemp "${TMPDIR:-/tmp}/compare-ensemble-smoke.XXXXXX")
trap 'rm -f "$out"' EXIT

OBSERVERS=1 WORKLOADS=set,get-latency,watch WATCH_SESSIONS=30 DURATION=1 BENCH_WARMUP=0.2 \
  WARMUP_ROUND=0 ROUNDS=1 NODES=2000 LOAD_OPS=3000 LATENCY_OPS=200 FSYNC_SAMPLES=50 OUT=$out \
  ZK_JVMFLAGS=${ZK_JVMFLAGS:-"-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"} \
  "$src/bench/compare_ensemble.sh" "$build" >/dev/null

fail=0
expect_row() { # WORKLOAD CLIENT MEASURE [MIN]: the row exists, both figures are numbers > MIN (0)
  local row
  row=$(grep -F "| $1 | $2 | $3 |" "$out" || true)
  if [[ -z $row ]]; then
    echo "FAIL: no row '$1 | $2 | $3'"
    fail=1
    return
  fi
  if ! awk -F'|' -v min="${4:-0}" '{ exit !($5 + 0 > min && $6 + 0 > min && $5 ~ /^ *[0-9.]+ *$/ && $6 ~ /^ *[0-9.]+ *$/) }' <<<"$row"; then
    echo "FAIL: not two figures above ${4:-0}: $row"
    fail=1
  fi
}
for m in "ops/s" "p50 µs" "p99 µs" "p99.9 µs" "ops per server CPU-s" "client CPU µs/op"; do
  expect_row set corral-bench "$m"
done
# Zero where the data dirs (under TMPDIR) are on a tmpfs, which keeps no such count.
expect_row set corral-bench "servers' bytes written per op" -1
expect_row set "C client" "ops/s"
expect_row set "C client" "ops per server CPU-s"
for m in "p50 µs" "p99 µs" "p99.9 µs"; do expect_row get-latency corral-bench "$m"; done
for m in "ops/s" "p50 µs" "p99 µs" "p99.9 µs" "ops per server CPU-s" "client CPU µs/op" \
  "last notified, p50 µs"; do
  expect_row watch corral-bench "$m"
done
expect_row "load 2000 znodes of 100 B" "C client" "create ops/s"
for w in "load 2000 znodes of 100 B" "kill -9 of all 4, restart"; do
  expect_row "$w" - "RSS of the leader (MiB)"
  expect_row "$w" - "RSS of a follower, mean (MiB)"
done
expect_row "kill -9 of all 4, restart" "C client" "time until all 4 read the last znode (s)"
expect_row "a follower rejoins with an empty disk" "C client" "time until it reads the last znode (s)"
grep -q '^- Machine: [0-9]* cores' "$out" || { echo "FAIL: no machine line"; fail=1; }
grep -q '^- Command: `.*bench/compare_ensemble.sh' "$out" || { echo "FAIL: no command line"; fail=1; }
grep -q '^- Ensembles: 3 voters + 1 observer(s) each' "$out" || { echo "FAIL: no shape line"; fail=1; }
grep -qE '^- Disk fsync floor .*: [0-9]+ µs alone, [0-9]+ µs with [0-9]+ at once$' "$out" || { echo "FAIL: no fsync floor"; fail=1; }
# Every table row is one that was checked: nothing unexpected, nothing half empty.
rows=$(grep -c '^| [a-z]' "$out" || true)
if ((rows != 27)); then # the header row plus the 26 checked above
  echo "FAIL: $rows table rows, expected 27"
  fail=1
fi
cat "$out"
exit $fail
