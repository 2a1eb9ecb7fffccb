#!/usr/bin/env bash
# corral's recipe commands (lock, elect, barrier, group, counter) end to end against one
# server: Corral or Apache ZooKeeper 3.8. Two `corral lock` runs never overlap, the fencing
# token grows, a command whose session is lost is stopped, elect runs one leader at a time,
# barriers release waiters, groups list their members, counters add up, bad input exits 2.
#
#   tests/cli/cli_recipes_test.sh zookeeper|SERVER_COMMAND
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../compat/zk_server.sh
source "$repo/tests/compat/zk_server.sh"

checks=0
failures=0
background=()

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# expect NAME CONDITION...: counts a check; fails NAME unless the command CONDITION succeeds.
expect() {
  local name=$1
  shift
  checks=$((checks + 1))
  "$@" || fail "$name"
}

corral() { "$cli" -s "$hostport" "$@"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds; false on timeout.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

test_lock() {
  corral lock /lk -- sh -c 'echo "$CORRAL_FENCING_TOKEN $CORRAL_LOCK_NODE"; exit 7' >"$tmp/l1" 2>&1
  expect "lock: exits with the command's status" test $? -eq 7
  expect "lock: token and node exported" grep -qE '^[0-9]+ /lk/_c_[0-9a-f]+-lock-[0-9]{10}$' "$tmp/l1"

  # Four runs at once append start/end to one ledger: the lines must pair up, tokens grow.
  local i pids=()
  for i in 1 2 3 4; do
    corral lock /lk -- sh -c "echo \"start \$CORRAL_FENCING_TOKEN\" >> $tmp/ledger; sleep 0.2;
      echo \"end \$CORRAL_FENCING_TOKEN\" >> $tmp/ledger" 2>>"$tmp/lock.err" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  expect "lock: 4 runs, 8 ledger lines" test "$(wc -l <"$tmp/ledger")" -eq 8
  expect "lock: runs never overlap, tokens grow" python3 - "$tmp/ledger" <<'PY'
import sys
lines = [l.split() for l in open(sys.argv[1])]
last = -1
for i in range(0, len(lines), 2):
    (a, t1), (b, t2) = lines[i], lines[i + 1]
    assert a == "start" and b == "end" and t1 == t2, lines
    assert int(t1) > last, lines
    last = int(t1)
PY

  "$cli" -s "$hostport" lock /lk -- sleep 3 &
  local holder=$!
  wait_for 10 sh -c "'$cli' -s '$hostport' ls /lk 2>/dev/null | grep -q lock-"
  corral lock /lk --timeout 0.3 -- echo never >"$tmp/l2.out" 2>"$tmp/l2.err"
  expect "lock --timeout: exit 1 when held" test $? -eq 1
  expect "lock --timeout: nothing ran" test ! -s "$tmp/l2.out"
  expect "lock --timeout: says it timed out" grep -q ZOPERATIONTIMEOUT "$tmp/l2.err"
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null

  # A lock whose session is lost: corral is stopped past its session timeout; once it runs
  # again it learns the session expired and stops the command.
  "$cli" -s "$hostport" --timeout 2000 lock /lk -- sh -c "touch $tmp/running; exec sleep 60" \
    >"$tmp/l3.out" 2>"$tmp/l3.err" &
  holder=$!
  wait_for 10 test -e "$tmp/running"
  kill -STOP "$holder"
  wait_for 20 sh -c "! '$cli' -s '$hostport' ls /lk 2>/dev/null | grep -q lock-"
  expect "lock: the stopped holder's node expires" test $? -eq 0
  kill -CONT "$holder"
  local started=$SECONDS
  wait "$holder"
  local status=$?
  expect "lock: command stopped when the session was lost (status $status)" test "$status" -eq 143
  expect "lock: stopped promptly" test $((SECONDS - started)) -lt 15
  expect "lock: says why" grep -q "was lost" "$tmp/l3.err"
}

test_elect() {
  "$cli" -s "$hostport" elect /el --data first -- sh -c "echo first >> $tmp/terms; sleep 1; echo first-done >> $tmp/terms" &
  local a=$!
  wait_for 10 sh -c "'$cli' -s '$hostport' elect --list /el | grep -qx first"
  "$cli" -s "$hostport" elect /el --data second -- sh -c "echo second >> $tmp/terms" &
  local b=$!
  wait_for 10 sh -c "test \$('$cli' -s '$hostport' elect --list /el | wc -l) -eq 2"
  expect "elect --list: leader first" test "$(corral elect --list /el | tr '\n' ' ')" == "first second "
  expect "elect --list --json" sh -c "'$cli' -s '$hostport' --json elect --list /el | python3 -c '
import json, sys; j = json.load(sys.stdin); p = j[\"participants\"]
assert [x[\"id\"] for x in p] == [\"first\", \"second\"] and p[0][\"leader\"] and not p[1][\"leader\"]'"
  wait "$a" "$b"
  expect "elect: one leader at a time, in order" test "$(tr '\n' ' ' <"$tmp/terms")" == "first first-done second "
  expect "elect --list: empty after" test -z "$(corral elect --list /el)"
}

# The server's count of watches (the `wchs` four-letter word).
total_watches() {
  echo wchs | nc -q1 "${hostport%:*}" "${hostport#*:}" | sed -n 's/^Total watches://p'
}

test_barrier_group_counter() {
  corral barrier set /bar
  expect "barrier set" test $? -eq 0
  corral barrier wait /bar --timeout 0.2 2>/dev/null
  expect "barrier wait --timeout: exit 1 while set" test $? -eq 1
  local before
  before=$(total_watches)
  "$cli" -s "$hostport" barrier wait /bar &
  local waiter=$!
  wait_for 10 sh -c "test \$(echo wchs | nc -q1 ${hostport%:*} ${hostport#*:} | sed -n 's/^Total watches://p') -gt $before"
  expect "barrier wait: watching the barrier" test $? -eq 0
  corral barrier remove /bar
  wait "$waiter"
  expect "barrier wait: released by remove" test $? -eq 0

  "$cli" -s "$hostport" group join /grp w1 --data '{"slots":2}' 2>/dev/null &
  local member=$!
  background+=("$member")
  wait_for 10 sh -c "'$cli' -s '$hostport' group ls /grp | grep -q w1"
  expect "group ls: id and data" test "$(corral group ls /grp)" == $'w1\t{"slots":2}'
  kill -TERM "$member"
  wait "$member"
  expect "group join: leaves on SIGTERM (exit 0)" test $? -eq 0
  expect "group ls: empty after leaving" test -z "$(corral group ls /grp)"

  expect "counter add 5" test "$(corral counter add /ctr 5)" == 5
  expect "counter add -2" test "$(corral counter add /ctr -2)" == 3
  expect "counter get" test "$(corral counter get /ctr)" == 3
  corral counter add /ctr abc 2>/dev/null
  expect "counter add abc: usage error" test $? -eq 2
  corral lock /lk 2>/dev/null
  expect "lock without a command: usage error" test $? -eq 2
  corral lock relative -- true 2>/dev/null
  expect "lock with a relative path: usage error" test $? -eq 2
}

cleanup() {
  local pid
  for pid in "${background[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  compat_servers_stop
  [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $tmp" || rm -rf "$tmp"
}

main() {
  (($# == 1)) || {
    echo "usage: $0 zookeeper|SERVER_COMMAND" >&2
    exit 64
  }
  cli=${CORRAL_CLI:-$repo/build/bin/corral}
  [[ -x $cli ]] || {
    echo "corral not found at $cli; build it or set CORRAL_CLI" >&2
    exit 2
  }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/corral-cli-recipes.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  compat_check_command "$1" || exit 2
  compat_server_start "$1" server || exit 2
  hostport=${COMPAT_HOSTPORT[server]}
  echo "cli recipes: $cli against $1 on $hostport"
  test_lock
  test_elect
  test_barrier_group_counter
  if ((failures > 0)); then
    echo "cli recipes: $failures of $checks checks FAILED"
    exit 1
  fi
  echo "cli recipes: all $checks checks passed"
}

main "$@"
