#!/usr/bin/env bash
# Runs a gtest program as SHARDS processes at once, each with a share of its test cases
# (gtest's GTEST_TOTAL_SHARDS and GTEST_SHARD_INDEX), and fails if any shard fails. For the
# end-to-end programs whose time is mostly waiting (session timeouts, elections, kills): each
# shard starts its own servers, and two of them wait side by side instead of one after another.
#   tests/run_shards.sh SHARDS PROGRAM [ARG...]
set -euo pipefail
shards=$1
shift
logs=$(mktemp -d "${TMPDIR:-/tmp}/corral-shards.XXXXXX")
# A TERM (ctest's timeout) stops the shards; their own cleanup stops their servers.
trap 'kill $(jobs -p) 2>/dev/null || true; wait; rm -rf "$logs"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
declare -a pids
for ((i = 0; i < shards; i++)); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i "$@" >"$logs/$i.log" 2>&1 &
  pids[i]=$!
done
failed=0
for ((i = 0; i < shards; i++)); do
  status=0
  wait "${pids[i]}" || status=$?
  echo "--- shard $((i + 1)) of $shards (exit $status)"
  cat "$logs/$i.log"
  ((status == 0)) || failed=$((failed + 1))
done
if ((failed > 0)); then
  echo "$failed of $shards shard(s) failed"
  exit 1
fi
