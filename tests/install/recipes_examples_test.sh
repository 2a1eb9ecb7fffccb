#!/usr/bin/env bash
# Runs every recipe example (examples/recipes, built as BIN_DIR/example_*) against a standalone
# corral-server on a free port: each must exit 0 within 30 s and print its key line, and
# together they must leave no node behind. Also checks that every excerpt recipes/README.md
# quotes (a ```cpp block after `<!-- examples/recipes/X.cc -->`) is in that file as it is.
#   tests/install/recipes_examples_test.sh BIN_DIR
set -euo pipefail
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/corral-recipes-examples.XXXXXX)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
cat > "$work/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/data
clientPort=$port
clientPortAddress=127.0.0.1
CFG
"$bin/corral-server" "$work/zoo.cfg" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "serving on" "$work/server.log" && break
  sleep 0.05
done
hosts="127.0.0.1:$port"

# example -> a line (extended regex) its output must have.
declare -A expect=(
  [lock]='^second holds, fencing token [0-9]+ \(larger\)$'
  [rw_lock]='^reader-3 behind the waiting writer: ZOPERATIONTIMEOUT$'
  [semaphore]='^worker-a returned a lease; worker-b: ZOK, fencing token [0-9]+$'
  [election]='^host-b after host-a resigned: ZOK$'
  [barrier]='^left together: ZOK, ZOK$'
  [group]='^departed: host-b:8080$'
  [counter]='^compare_and_set at version 0: ZBADVERSION$'
  [queue]='^took low$'
  [config]='^reader sees replicas=3$'
  [cache]='^caches followed create, set, delete: yes$'
)
failed=0
for name in lock rw_lock semaphore election barrier group counter queue config cache; do
  status=0
  out=$(timeout 30 "$bin/example_$name" "$hosts" 2>&1) || status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAIL: example_$name exited with $status"
    failed=1
  elif ! grep -Eq "${expect[$name]}" <<<"$out"; then
    echo "FAIL: example_$name did not print /${expect[$name]}/"
    failed=1
  else
    echo "ok: example_$name"
    continue
  fi
  sed 's/^/    /' <<<"$out"
done

left=$(timeout 10 "$bin/corral" -s "$hosts" ls / 2>&1) || true
if [[ $left != "[zookeeper]" ]]; then
  echo "FAIL: the examples left nodes behind: $left"
  failed=1
fi
python3 - "$root" <<'PY' || failed=1
import re, sys, textwrap
root = sys.argv[1]
readme = open(f"{root}/recipes/README.md").read()
quotes = re.findall(r"<!-- (examples/recipes/\w+\.cc) -->\n```cpp\n(.*?)\n```", readme, re.S)
stale = 0
for name, block in quotes:
    lines = open(f"{root}/{name}").read().split("\n")
    want = textwrap.dedent(block)
    n = len(want.split("\n"))
    if not any(textwrap.dedent("\n".join(lines[i:i + n])) == want for i in range(len(lines))):
        print(f"FAIL: recipes/README.md quotes {name} as it no longer is:\n{block}")
        stale += 1
print(f"{'FAIL' if stale or not quotes else 'ok'}: {len(quotes) - stale} of {len(quotes)} README excerpts match")
sys.exit(1 if stale or not quotes else 0)
PY
[[ $failed -eq 0 ]] && echo "PASS: every recipe example ran against corral-server; the README quotes them as they are"
exit "$failed"
