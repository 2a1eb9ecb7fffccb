#!/usr/bin/env bash
# The corral CLI end to end against one server: Corral or Apache ZooKeeper 3.8. The same
# commands must give the same output and exit status against both.
#
#   tests/cli/cli_e2e_test.sh zookeeper|SERVER_COMMAND
#
# SERVER_COMMAND takes a zoo.cfg path, e.g. build/bin/corral-server.
# Environment: CORRAL_CLI (default: the newest build*/bin/corral), CLI_OUT_DIR (keep the
# outputs of failed checks there), and those of tests/compat/zk_server.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../compat/zk_server.sh
source "$repo/tests/compat/zk_server.sh"

checks=0
failures=0
watchers=()

find_cli() {
  if [[ -n ${CORRAL_CLI:-} ]]; then
    echo "$CORRAL_CLI"
    return
  fi
  # shellcheck disable=SC2012  # the newest build directory's binary
  ls -t "$repo"/build*/bin/corral 2>/dev/null | head -n 1
}

fail() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# check NAME STATUS [EXPECTATION...] -- ARGS...: runs `corral -s HOST ARGS...` and checks its
# exit status and each expectation:
#   --out TEXT    stdout is exactly TEXT (without the last newline)
#   --line LINE   stdout has the line LINE
#   --match ERE   stdout has a line matching ERE (whole line)
#   --err TEXT    stderr is exactly TEXT
#   --json EXPR   stdout's first line is JSON and the Python expression EXPR is true of it (j)
check() {
  local name=$1 want_status=$2 status
  shift 2
  local -a expectations=()
  while [[ $1 != -- ]]; do
    expectations+=("$1" "$2")
    shift 2
  done
  shift
  checks=$((checks + 1))
  "$cli" -s "$hostport" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  status=$?
  local before=$failures
  ((status == want_status)) || fail "$name: exit status $status, expected $want_status"
  expect_output "$name" "$tmp/out" "$tmp/err" "${expectations[@]}"
  ((failures == before)) || report "$name" "$@"
}

# expect_output NAME OUT ERR [EXPECTATION...]: the expectations of check on files OUT, ERR.
expect_output() {
  local name=$1 out=$2 err=$3
  shift 3
  while (($# > 0)); do
    case $1 in
      --out) [[ $(<"$out") == "$2" ]] || fail "$name: stdout is not: $2" ;;
      --line) grep -qxF -- "$2" "$out" || fail "$name: no line: $2" ;;
      --match) grep -qxE -- "$2" "$out" || fail "$name: no line matching: $2" ;;
      --err) [[ $(<"$err") == "$2" ]] || fail "$name: stderr is not: $2" ;;
      --json) json_true "$2" <"$out" || fail "$name: JSON check failed: $2" ;;
      *) fail "$name: unknown expectation $1" ;;
    esac
    shift 2
  done
}

# json_true EXPR < OUT: true if OUT's first line is JSON and EXPR holds of it (as j).
json_true() {
  python3 -c '
import json, sys
j = json.loads(sys.stdin.readline())
sys.exit(0 if eval("(" + sys.argv[1] + ")", {"j": j}) else 1)' "$1" 2>/dev/null
}

# report NAME ARGS...: what a failed check printed.
report() {
  local name=$1
  shift
  echo "  command: corral -s $hostport $*"
  sed 's/^/  stdout: /' "$tmp/out"
  sed 's/^/  stderr: /' "$tmp/err"
  if [[ -n ${CLI_OUT_DIR:-} ]]; then
    mkdir -p "$CLI_OUT_DIR"
    cp "$tmp/out" "$CLI_OUT_DIR/${name// /_}.out"
    cp "$tmp/err" "$CLI_OUT_DIR/${name// /_}.err"
  fi
}

# shell NAME STATUS [EXPECTATION...] -- LINE...: feeds the lines to corral's shell (one
# session) and checks as `check` does.
shell() {
  local name=$1 want_status=$2 status
  shift 2
  local -a expectations=()
  while [[ $1 != -- ]]; do
    expectations+=("$1" "$2")
    shift 2
  done
  shift
  checks=$((checks + 1))
  printf '%s\n' "$@" | "$cli" -s "$hostport" >"$tmp/out" 2>"$tmp/err"
  status=$?
  local before=$failures
  ((status == want_status)) || fail "$name: exit status $status, expected $want_status"
  expect_output "$name" "$tmp/out" "$tmp/err" "${expectations[@]}"
  ((failures == before)) || report "$name" "(shell)" "$@"
}

# wait_for_line FILE LINE SECONDS: polls until FILE has LINE (a deadline, not a fixed sleep).
wait_for_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -qxF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_gone PATH SECONDS: polls until PATH no longer exists (containers, TTL nodes).
wait_gone() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    "$cli" -s "$hostport" stat "$1" >/dev/null 2>&1
    (($? == 1)) && return 0
    sleep 0.1
  done
  return 1
}

# start_watcher NAME ARGS...: runs `corral ARGS...` in the background, output in
# $tmp/NAME.out and .err; its pid in watcher_pid.
start_watcher() {
  local name=$1
  shift
  "$cli" -s "$hostport" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  watcher_pid=$!
  watchers+=("$watcher_pid")
}

test_basics() {
  check "create" 0 --out "Created /cli" -- create /cli hello
  check "create existing" 1 --out "" \
    --err "corral: create /cli: ZNODEEXISTS (node already exists)" -- create /cli again
  check "get" 0 --out "hello" -- get /cli
  check "set" 0 --out "" -- set /cli world
  check "get -s" 0 --line "world" --match "cZxid = 0x[0-9a-f]+" \
    --match "ctime = [A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} .* [0-9]{4}" \
    --line "dataVersion = 1" --line "aclVersion = 0" --line "cversion = 0" \
    --line "ephemeralOwner = 0x0" --line "dataLength = 5" --line "numChildren = 0" \
    -- get -s /cli
  check "get missing" 1 --out "" --err "corral: get /nope: ZNONODE (node does not exist)" \
    -- get /nope
  check "set bad version" 1 --err "corral: set /cli: ZBADVERSION (version does not match)" \
    -- set -v 5 /cli x
  check "set version" 0 --out "" -- set -v 1 /cli v2
  check "set -s" 0 --line "dataVersion = 3" --line "dataLength = 2" -- set -s -v 2 /cli v3
  check "set missing" 1 --err "corral: set /nope: ZNONODE (node does not exist)" -- set /nope x
  check "create child" 0 --out "Created /cli/b" -- create /cli/b
  check "create child with data" 0 --out "Created /cli/a" -- create /cli/a "two words"
  check "get quoted data" 0 --out "two words" -- get /cli/a
  check "get empty data" 0 --out "" -- get /cli/b
  check "create without parent" 1 \
    --err "corral: create /nope/child: ZNONODE (node does not exist)" -- create /nope/child
  check "ls" 0 --out "[a, b]" -- ls /cli
  check "ls -s" 0 --line "[a, b]" --line "numChildren = 2" --line "cversion = 2" -- ls -s /cli
  check "ls missing" 1 --err "corral: ls /nope: ZNONODE (node does not exist)" -- ls /nope
  check "stat" 0 --line "numChildren = 2" --line "dataVersion = 3" -- stat /cli
  check "stat missing" 1 --err "corral: stat /nope: ZNONODE (node does not exist)" -- stat /nope
  check "getAllChildrenNumber" 0 --out "2" -- getAllChildrenNumber /cli
  check "sync" 0 --out "Sync is OK" -- sync /cli
  check "delete not empty" 1 --err "corral: delete /cli: ZNOTEMPTY (node has children)" \
    -- delete /cli
  check "delete bad version" 1 --err "corral: delete /cli/a: ZBADVERSION (version does not match)" \
    -- delete -v 3 /cli/a
  check "delete version" 0 --out "" -- delete -v 0 /cli/a
  check "delete missing" 1 --err "corral: delete /cli/a: ZNONODE (node does not exist)" \
    -- delete /cli/a
  check "data after --" 0 --out "" -- set /cli/b -- -1
  check "get after --" 0 --out "-1" -- get /cli/b
}

test_create_modes() {
  check "sequential parent" 0 --out "Created /seq" -- create /seq
  check "sequential" 0 --out "Created /seq/s-0000000000" -- create -s /seq/s- x
  check "sequential again" 0 --out "Created /seq/s-0000000001" -- create -s /seq/s- y
  check "sequential ttl" 0 --out "Created /seq/t-0000000002" -- create -s -t 600000 /seq/t- t
  check "sequential ttl kept" 0 --out "t" -- get /seq/t-0000000002
  check "ephemeral" 0 --out "Created /cli/eph" -- create -e /cli/eph
  check "ephemeral gone with its session" 1 \
    --err "corral: stat /cli/eph: ZNONODE (node does not exist)" -- stat /cli/eph
  check "ephemerals' parent" 0 --out "Created /eph" -- create /eph
  shell "ephemerals in a session" 1 --line "Created /eph/e" --line "Created /eph/s-0000000001" \
    --line "[/eph/e, /eph/s-0000000001]" --match "ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*" \
    --err "corral: create /eph/e/child: ZNOCHILDRENFOREPHEMERALS (ephemeral nodes cannot have children)" \
    -- "create -e /eph/e" "create -e -s /eph/s-" "getEphemerals /eph" "getEphemerals" \
    "stat /eph/e" "create /eph/e/child"
  check "ephemerals gone with the shell's session" 0 --out "[]" -- ls /eph
  check "container" 0 --out "Created /cli/ctr" -- create -c /cli/ctr
  check "container child" 0 --out "Created /cli/ctr/kid" -- create /cli/ctr/kid
  check "container child deleted" 0 --out "" -- delete /cli/ctr/kid
  checks=$((checks + 1))
  wait_gone /cli/ctr 20 || fail "container /cli/ctr not deleted 20 s after its last child"
  # Long enough that the next command, a new process on a loaded machine, still finds it (at
  # 500 ms ZooKeeper's sweep, every 100 ms here, once took it first).
  check "ttl" 0 --out "Created /cli/ttl" -- create -t 5000 /cli/ttl t
  check "ttl data" 0 --out "t" -- get /cli/ttl
  checks=$((checks + 1))
  wait_gone /cli/ttl 20 || fail "TTL node /cli/ttl not deleted 20 s after its TTL"
}

test_acls() {
  local digest
  digest=$(python3 -c 'import base64, hashlib
print(base64.b64encode(hashlib.sha1(b"bob:pw").digest()).decode())')
  check "getAcl" 0 --out "'world,'anyone"$'\n'": cdrwa" -- getAcl /cli
  check "getAcl -s" 0 --line ": cdrwa" --line "aclVersion = 0" -- getAcl -s /cli
  check "create with acl" 0 --out "Created /cli/acl" -- create /cli/acl x world:anyone:cdrwa
  check "setAcl bad version" 1 \
    --err "corral: setAcl /cli/acl: ZBADVERSION (version does not match)" \
    -- setAcl -v 4 /cli/acl world:anyone:r
  check "setAcl" 0 --out "" -- setAcl -v 0 /cli/acl world:anyone:r,ip:127.0.0.2:cdrwa
  check "getAcl after setAcl" 0 \
    --out "'world,'anyone"$'\n'": r"$'\n'"'ip,'127.0.0.2"$'\n'": cdrwa" -- getAcl /cli/acl
  check "setAcl -s" 1 --err "corral: setAcl /cli/acl: ZNOAUTH (insufficient permission)" \
    -- setAcl -s /cli/acl world:anyone:cdrwa
  check "read-only node" 1 --err "corral: set /cli/acl: ZNOAUTH (insufficient permission)" \
    -- set /cli/acl y
  check "bad acl" 2 --out "" -- setAcl /cli/acl world:anyone
  check "bad perms" 2 --out "" -- create /cli/x x world:anyone:rxw
  check "auth acl" 0 --out "Created /cli/sec" -- -a digest:bob:pw create /cli/sec s auth::cdrwa
  check "auth acl shown as digest" 0 --out "'digest,'bob:$digest"$'\n'": cdrwa" \
    -- -a digest:bob:pw getAcl /cli/sec
  check "getAcl needs read" 1 --err "corral: getAcl /cli/sec: ZNOAUTH (insufficient permission)" \
    -- getAcl /cli/sec
  check "no auth" 1 --err "corral: get /cli/sec: ZNOAUTH (insufficient permission)" \
    -- get /cli/sec
  check "with auth" 0 --out "s" -- --auth digest:bob:pw get /cli/sec
  check "wrong password" 1 --err "corral: get /cli/sec: ZNOAUTH (insufficient permission)" \
    -- -a digest:bob:nope get /cli/sec
  check "digest acl" 0 --out "Created /cli/dig" -- create /cli/dig d "digest:bob:$digest:r"
  check "digest acl read" 0 --out "d" -- -a digest:bob:pw get /cli/dig
  check "whoami" 0 --out "Auth scheme: User"$'\n'"ip: 127.0.0.1" -- whoami
  shell "addauth and whoami" 0 --line "digest: bob" --line "ip: 127.0.0.1" --line "s" \
    --err "" -- "addauth digest bob:pw" "whoami" "get /cli/sec"
  # Listing /cli/dig's children needs READ, which only bob has.
  check "deleteall refused" 1 --err "corral: deleteall /cli/dig: ZNOAUTH (insufficient permission)" \
    -- deleteall /cli
}

test_trees() {
  check "tree" 0 -- create /tree
  check "tree b" 0 -- create /tree/b
  check "tree a" 0 -- create /tree/a
  check "tree a/x" 0 -- create /tree/a/x
  check "tree a/x/y" 0 -- create /tree/a/x/y
  check "ls -R" 0 --out $'/tree\n/tree/a\n/tree/b\n/tree/a/x\n/tree/a/x/y' -- ls -R /tree
  check "ls -R leaf" 0 --out "/tree/b" -- ls -R /tree/b
  check "ls -R missing" 1 --err "corral: ls /nope: ZNONODE (node does not exist)" -- ls -R /nope
  check "getAllChildrenNumber tree" 0 --out "4" -- getAllChildrenNumber /tree
  check "deleteall" 0 --out "" -- deleteall /tree
  check "deleteall gone" 1 -- stat /tree
  check "deleteall missing" 1 --err "corral: deleteall /nope: ZNONODE (node does not exist)" \
    -- deleteall /nope
  check "deleteall as bob" 0 --out "" -- -a digest:bob:pw deleteall /cli
  check "deleteall seq" 0 --out "" -- deleteall /seq
  check "deleteall eph" 0 --out "" -- deleteall /eph
  check "ls root" 0 --out "[zookeeper]" -- ls /
}

test_json() {
  check "json create" 0 --json 'j["path"] == "/j" and j["stat"]["version"] == 0' \
    -- --json create /j v
  check "json children" 0 -- create /j/b
  check "json children" 0 -- create /j/a
  check "json get" 0 --json 'j["path"] == "/j" and j["data"] == "v" and
    sorted(j["stat"]) == sorted(["czxid", "mzxid", "ctime", "mtime", "version", "cversion",
      "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid"]) and
    j["stat"]["dataLength"] == 1 and j["stat"]["numChildren"] == 2 and
    j["stat"]["mzxid"] == j["stat"]["czxid"] and j["stat"]["pzxid"] > j["stat"]["czxid"]' \
    -- --json get /j
  check "json ls" 0 --json 'j["children"] == ["a", "b"] and j["stat"]["cversion"] == 2' \
    -- --json ls /j
  check "json ls -R" 0 --json 'j["paths"] == ["/j", "/j/a", "/j/b"]' -- --json ls -R /j
  check "json stat" 0 --json 'j["path"] == "/j" and j["stat"]["numChildren"] == 2' \
    -- --json stat /j
  check "json set" 0 --json 'j["stat"]["version"] == 1 and j["stat"]["dataLength"] == 2' \
    -- --json set /j v2
  check "json sequential" 0 --json 'j["path"] == "/j/s-0000000002"' -- --json create -s /j/s-
  check "json getAcl" 0 \
    --json 'j["acl"] == [{"scheme": "world", "id": "anyone", "perms": "cdrwa"}]' \
    -- --json getAcl /j
  check "json setAcl" 0 --json 'j["stat"]["aversion"] == 1' \
    -- --json setAcl /j/a world:anyone:cdrwa
  check "json count" 0 --json 'j == {"path": "/j", "count": 3}' -- --json getAllChildrenNumber /j
  check "json whoami" 0 \
    --json '{"scheme": "digest", "id": "bob"} in j["identities"] and
      {"scheme": "ip", "id": "127.0.0.1"} in j["identities"]' \
    -- --json -a digest:bob:pw whoami
  check "json sync" 0 --json 'j == {"path": "/j", "synced": True}' -- --json sync /j
  check "json error" 1 \
    --json 'j == {"error": "ZNONODE", "code": -101, "message": "node does not exist", "path": "/nope"}' \
    --err "corral: get /nope: ZNONODE (node does not exist)" -- --json get /nope
  check "json bad version" 1 --json 'j["error"] == "ZBADVERSION" and j["code"] == -103' \
    -- --json set -v 7 /j x
  check "json delete" 0 --json 'j == {"path": "/j/a", "deleted": 1}' -- --json delete /j/a
  check "json deleteall" 0 --json 'j == {"path": "/j", "deleted": 3}' -- --json deleteall /j
}

test_usage() {
  check "unknown command" 2 --out "" -- frobnicate /x
  check "missing argument" 2 --out "" \
    --err $'corral: get: missing argument\nusage: get [-s] [-w] path\n  -s  also print the node\'s Stat\n  -w  wait for the watch to fire and print its event' \
    -- get
  check "unknown flag" 2 --out "" -- get -x /a
  check "too many arguments" 2 --out "" -- ls /a /b
  check "relative path" 2 --out "" -- get relative
  check "bad version value" 2 --out "" -- set -v x /a b
  check "container and ephemeral" 2 --out "" -- create -c -e /x
  check "ttl and ephemeral" 2 --out "" -- create -t 100 -e /x
  check "unknown option" 2 --out "" -- --bogus ls /
  check "help" 0 --match "  whoami +print this session's identities" -- help
  local port
  port=$(compat_free_port)
  checks=$((checks + 1))
  "$cli" -s "127.0.0.1:$port" --timeout 1000 ls / >"$tmp/out" 2>"$tmp/err"
  local status=$?
  ((status == 3)) || fail "no server: exit status $status, expected 3"
  [[ $(<"$tmp/err") == "corral: cannot connect to 127.0.0.1:$port within 1000 ms" ]] ||
    fail "no server: stderr is $(<"$tmp/err")"
  checks=$((checks + 1))
  "$cli" -s "127.0.0.1:$port" --timeout 500 --json ls / >"$tmp/out" 2>/dev/null
  json_true 'j["error"] == "ZCONNECTIONLOSS" and j["code"] == -4' <"$tmp/out" ||
    fail "no server: --json printed $(<"$tmp/out")"
  shell "shell goes on after errors" 0 --line "x" \
    --err $'corral: get /nope: ZNONODE (node does not exist)\ncorral: bogus: unknown command \'bogus\' (try help)' \
    -- "create /sh x" "get /nope" "bogus" "get /sh" "delete /sh"
  shell "shell status is the last command's" 1 -- "get /nope"
  shell "shell quit" 0 --out "" -- "quit" "create /never"
  check "quit stops the shell" 1 -- stat /never
}

# Background watchers, changed by other corral processes.
test_watches() {
  check "watched node" 0 -- create /w v0
  start_watcher watch watch /w
  local pid=$watcher_pid
  checks=$((checks + 1))
  wait_for_line "$tmp/watch.err" "corral: watching /w; Ctrl-C stops" 10 ||
    fail "watch: never said it was watching"
  check "change" 0 -- set /w v1
  check "child" 0 -- create /w/kid
  checks=$((checks + 1))
  wait_for_line "$tmp/watch.out" "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w" 10 ||
    fail "watch: no NodeDataChanged event"
  wait_for_line "$tmp/watch.out" "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/w" 10 ||
    fail "watch: no NodeChildrenChanged event"
  check "second change" 0 -- set /w v2
  local deadline=$((SECONDS + 10))
  while (($(grep -c NodeDataChanged "$tmp/watch.out") < 2 && SECONDS < deadline)); do sleep 0.05; done
  (($(grep -c NodeDataChanged "$tmp/watch.out") == 2)) ||
    fail "watch: the persistent watch did not fire twice: $(cat "$tmp/watch.out")"
  kill -TERM "$pid"
  wait "$pid"
  local status=$?
  ((status == 0)) || fail "watch: exit status $status after SIGTERM, expected 0"

  start_watcher rwatch --json watch -R /w
  pid=$watcher_pid
  checks=$((checks + 1))
  wait_for_line "$tmp/rwatch.err" "corral: watching /w and its descendants; Ctrl-C stops" 10 ||
    fail "watch -R: never said it was watching"
  check "grandchild" 0 -- create /w/kid/grand g
  check "grandchild change" 0 -- set /w/kid/grand h
  local want='{"path":"/w/kid/grand","state":"SyncConnected","type":"NodeDataChanged"}'
  wait_for_line "$tmp/rwatch.out" "$want" 10 || fail "watch -R: no event for the grandchild"
  kill -INT "$pid"
  wait "$pid"
  status=$?
  ((status == 0)) || fail "watch -R: exit status $status after SIGINT, expected 0"
  python3 -c '
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
want = [{"path": "/w/kid/grand", "state": "SyncConnected", "type": t}
        for t in ("NodeCreated", "NodeDataChanged")]
sys.exit(0 if events == want else 1)' "$tmp/rwatch.out" ||
    fail "watch -R --json: events are $(cat "$tmp/rwatch.out")"

  start_watcher getw get -w /w
  pid=$watcher_pid
  checks=$((checks + 1))
  wait_for_line "$tmp/getw.out" "v2" 10 || fail "get -w: no data"
  check "change for get -w" 0 -- set /w v3
  wait "$pid"
  status=$?
  ((status == 0)) || fail "get -w: exit status $status, expected 0"
  [[ $(<"$tmp/getw.out") == $'v2\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/w' ]] ||
    fail "get -w: printed $(cat "$tmp/getw.out")"

  start_watcher lsw --json ls -w /w
  pid=$watcher_pid
  checks=$((checks + 1))
  deadline=$((SECONDS + 10))
  while [[ ! -s $tmp/lsw.out ]] && ((SECONDS < deadline)); do sleep 0.05; done
  check "child for ls -w" 0 -- delete /w/kid/grand
  check "child for ls -w" 0 -- delete /w/kid
  wait "$pid"
  status=$?
  ((status == 0)) || fail "ls -w: exit status $status, expected 0"
  python3 -c '
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
ok = (len(lines) == 2 and lines[0]["children"] == ["kid"] and
      lines[1] == {"path": "/w", "state": "SyncConnected", "type": "NodeChildrenChanged"})
sys.exit(0 if ok else 1)' "$tmp/lsw.out" || fail "ls -w --json: printed $(cat "$tmp/lsw.out")"

  start_watcher statw stat -w /w
  pid=$watcher_pid
  checks=$((checks + 1))
  wait_for_line "$tmp/statw.out" "numChildren = 0" 10 || fail "stat -w: no Stat"
  check "delete for stat -w" 0 -- delete /w
  wait "$pid"
  status=$?
  ((status == 0)) || fail "stat -w: exit status $status, expected 0"
  grep -qxF "WatchedEvent state:SyncConnected type:NodeDeleted path:/w" "$tmp/statw.out" ||
    fail "stat -w: printed $(cat "$tmp/statw.out")"
}

cleanup() {
  local pid
  for pid in "${watchers[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  compat_servers_stop
  rm -rf "$tmp"
}

main() {
  (($# == 1)) || {
    echo "usage: $0 zookeeper|SERVER_COMMAND" >&2
    exit 64
  }
  cli=$(find_cli)
  if [[ -z $cli || ! -x $cli ]]; then
    echo "corral not found; build it (ninja -C build corral-cli) or set CORRAL_CLI" >&2
    exit 2
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/corral-cli-e2e.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  compat_check_command "$1" || exit 2
  compat_server_start "$1" server || exit 2
  hostport=${COMPAT_HOSTPORT[server]}
  echo "cli: $cli against $1 on $hostport"
  test_basics
  test_create_modes
  test_acls
  test_trees
  test_json
  test_usage
  test_watches
  if ((failures > 0)); then
    echo "cli: $failures of $checks checks FAILED"
    exit 1
  fi
  echo "cli: all $checks checks passed"
}

main "$@"
