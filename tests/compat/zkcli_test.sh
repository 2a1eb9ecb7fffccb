#!/usr/bin/env bash
# Apache ZooKeeper's command-line clients against SERVER: zkCli.sh (Java) and cli_mt (the C
# client's shell). Each command's printed result is checked.
#
#   tests/compat/zkcli_test.sh zookeeper|SERVER_COMMAND
#
# Environment: ZKCLI (default /usr/share/zookeeper/bin/zkCli.sh), CLI_MT (default
# /usr/lib/zookeeper/bin/cli_mt), ZKCLI_OUT_DIR (keep outputs there), and those of zk_server.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=zk_server.sh
source "$here/zk_server.sh"

ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
CLI_MT=${CLI_MT:-/usr/lib/zookeeper/bin/cli_mt}
failures=0
checks=0

# expect FILE LINE: FILE has exactly LINE (whole line, fixed string, leading tab allowed).
expect() {
  checks=$((checks + 1))
  if ! grep -qxF -- "$2" "$1" && ! grep -qxF -- "$(printf '\t%s' "$2")" "$1"; then
    echo "FAIL $(basename "$1"): expected the line: $2"
    failures=$((failures + 1))
  fi
}

# expect_not FILE LINE: FILE does not have LINE.
expect_not() {
  checks=$((checks + 1))
  if grep -qxF -- "$2" "$1"; then
    echo "FAIL $(basename "$1"): unexpected line: $2"
    failures=$((failures + 1))
  fi
}

# expect_count FILE LINE N: FILE has LINE exactly N times.
expect_count() {
  checks=$((checks + 1))
  local n
  n=$(grep -cxF -- "$2" "$1")
  if ((n != $3)); then
    echo "FAIL $(basename "$1"): expected $3 times, got $n: $2"
    failures=$((failures + 1))
  fi
}

# zkcli OUT CMD...: runs the commands in one zkCli.sh session (one JVM), output to OUT.
zkcli() {
  local out=$1
  shift
  printf '%s\n' "$@" quit | timeout 120 "$ZKCLI" -server "$hostport" >"$out" 2>&1
  echo "zkCli.sh: $# commands, exit $?" >>"$out"
}

# wait_for_line FILE LINE SECONDS: polls until FILE has LINE (deadline, not a fixed sleep).
wait_for_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -qxF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# cli_mt OUT CMD...: feeds the commands to one cli_mt session. cli_mt sends them
# asynchronously, so it is told to quit only once the answer to a last marker request has
# arrived (answers come in order).
cli_mt() {
  local out=$1 marker="/cli-mt-marker-$$"
  shift
  : >"$out"
  # shellcheck disable=SC2094  # cli_mt appends to OUT while the feeder reads it
  {
    printf '%s\n' "$@" "ls $marker"
    wait_for_line "$out" "$marker: rc = -101" 30 || echo "(no answer to the marker)" >>"$out"
    echo quit
  } | timeout 60 "$CLI_MT" "$hostport" >>"$out" 2>&1
  echo "cli_mt: exit $?" >>"$out"
}

test_zkcli() {
  local one="$out_dir/zkcli-1.txt" two="$out_dir/zkcli-2.txt"
  zkcli "$one" \
    "create /zkcli hello" "create /zkcli/child2 c2" "create /zkcli/child1 c1" \
    "create -s /zkcli/seq- x" "create -e /zkcli/eph e" "create /zkcli again" \
    "ls /zkcli" "get /zkcli" "set /zkcli world" "get -s /zkcli" "set -v 5 /zkcli x" \
    "delete /zkcli" "delete /zkcli/child1" "get /zkcli/child1" "stat /nope" "ls /zkcli" \
    "getEphemerals /zkcli" "getAllChildrenNumber /zkcli" "sync /zkcli" \
    "create /zkcli/locked l" "setAcl /zkcli/locked world:anyone:r" "getAcl /zkcli/locked" \
    "set /zkcli/locked x" "create -c /zkcli/ctr" "create -t 600000 /zkcli/ttl t" \
    "ls -R /zkcli" "deleteall /zkcli" "ls /zkcli" \
    "create /zkcli-eph" "create -e /zkcli-eph/mine m" "ls /zkcli-eph" "whoami"
  expect "$one" "Created /zkcli"
  expect "$one" "Created /zkcli/seq-0000000002"
  expect "$one" "Created /zkcli/eph"
  expect "$one" "Node already exists: /zkcli"
  expect "$one" "[child1, child2, eph, seq-0000000002]"
  expect "$one" "hello"
  expect "$one" "world"
  expect "$one" "dataVersion = 1"
  expect "$one" "numChildren = 4"
  expect "$one" "cversion = 4"
  expect "$one" "dataLength = 5"
  expect "$one" "version No is not valid : /zkcli"
  expect "$one" "Node not empty: /zkcli"
  expect "$one" "Node does not exist: /zkcli/child1"
  expect "$one" "Node does not exist: /nope"
  expect "$one" "[child2, eph, seq-0000000002]"
  expect "$one" "[/zkcli/eph]"
  expect "$one" "3"
  expect "$one" "Sync is OK"
  expect "$one" "'world,'anyone"
  expect "$one" ": r"
  expect "$one" "Insufficient permission : /zkcli/locked"
  expect "$one" "Created /zkcli/ctr"
  expect "$one" "Created /zkcli/ttl"
  expect "$one" "/zkcli/locked"
  expect "$one" "/zkcli/ttl"
  expect_not "$one" "Failed to delete some node(s) in the subtree!"
  expect_count "$one" "Node does not exist: /zkcli" 1
  expect "$one" "[mine]"
  expect "$one" "ip: 127.0.0.1"
  expect "$one" "zkCli.sh: 32 commands, exit 0"
  # A new session: the first one's ephemeral is gone; errors for missing nodes. whoami first:
  # zkCli.sh prints the connection event from another thread, and it once landed inside the
  # first command's output ("[", the event, "]"); a round trip later it has been printed.
  zkcli "$two" "whoami" "ls /zkcli-eph" "delete /zkcli-eph" "ls /zkcli-eph" "get /nope" \
    "set /nope x" "create /nope/child x" "deleteall /nope" "ls /zookeeper"
  expect "$two" "[]"
  expect "$two" "Node does not exist: /zkcli-eph"
  expect "$two" "Node does not exist: /nope"
  expect "$two" "Node does not exist: /nope/child"
  expect "$two" "[config, quota]"
  # zkCli.sh's exit status is that of its last command.
  expect "$two" "zkCli.sh: 9 commands, exit 0"
}

test_cli_mt() {
  local one="$out_dir/cli_mt-1.txt" two="$out_dir/cli_mt-2.txt"
  cli_mt "$one" "create /climt" "create /climt/k" "create +s /climt/s-" "create +e /climt/e" \
    "create /climt" "set /climt newdata" "get /climt" "ls /climt" "delete /climt" \
    "exists /nope" "delete /climt/k" "ls2 /climt" "get /nope"
  expect "$one" "[/climt]: rc = 0"
  expect "$one" "name = /climt"
  expect "$one" "name = /climt/s-0000000001"
  expect "$one" "name = /climt/e"
  expect "$one" "[/climt]: rc = -110"
  expect "$one" " value_len = 7"
  expect "$one" "newdata"
  expect "$one" "k"
  expect "$one" "s-0000000001"
  expect "$one" "e"
  expect "$one" "/climt: rc = -111"
  expect "$one" "Error -101 for /nope"
  expect "$one" "/climt/k: rc = 0"
  expect "$one" "/nope: rc = -101"
  expect_not "$one" "(no answer to the marker)"
  expect "$one" "cli_mt: exit 0"
  # The first session's ephemeral went with it, so /climt can be emptied and deleted.
  cli_mt "$two" "ls /climt" "delete /climt/s-0000000001" "delete /climt" "ls /climt"
  expect_not "$two" "	e"
  expect "$two" "/climt/s-0000000001: rc = 0"
  expect "$two" "/climt: rc = 0"
  expect "$two" "/climt: rc = -101"
  expect "$two" "cli_mt: exit 0"
}

main() {
  (($# == 1)) || {
    echo "usage: $0 zookeeper|SERVER_COMMAND" >&2
    exit 64
  }
  out_dir=${ZKCLI_OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/corral-zkcli-out.XXXXXX")}
  mkdir -p "$out_dir"
  compat_install_trap
  compat_check_command "$1" || exit 2
  compat_server_start "$1" server || exit 2
  hostport=${COMPAT_HOSTPORT[server]}
  echo "zkcli: testing $1 on $hostport"
  test_zkcli
  test_cli_mt
  if ((failures > 0)); then
    echo "zkcli: $failures of $checks checks FAILED; outputs in $out_dir"
    exit 1
  fi
  [[ -n ${ZKCLI_OUT_DIR:-} ]] || rm -rf "$out_dir"
  echo "zkcli: all $checks checks passed"
}

main "$@"
