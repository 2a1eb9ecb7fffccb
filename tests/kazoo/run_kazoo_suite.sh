#!/usr/bin/env bash
# Runs kazoo's own test suite (Debian's python3-kazoo ships it in kazoo/tests) against a
# 3-member Apache ZooKeeper 3.8 ensemble or a 3-member Corral ensemble. kazoo's harness
# (kazoo/testing/common.py) starts the members itself with `java ... QuorumPeerMain zoo.cfg`;
# for Corral, shim/java (first on PATH) turns that command into `corral-server zoo.cfg`.
#
#   run_kazoo_suite.sh zookeeper [MODULE...]
#   run_kazoo_suite.sh corral CORRAL_SERVER [MODULE...]
#
# MODULE is a file of kazoo/tests (test_sasl.py, test_client.py, ...); none means all of them.
# deselect.txt lists the tests left out, each with its reason. The modules are split over
# KAZOO_SUITE_PARTS pytest runs at once (default 2, each with its own ensemble); each part's
# last line is pytest's summary (N passed, N failed, N skipped, N deselected); the exit status
# is a failing part's (0 when all pass).
#
# Environment: KAZOO_PYTHON3 (default /usr/bin/python3, Debian's python with kazoo),
# KAZOO_SUITE_TIMEOUT (seconds for the whole pytest run, default 600), KAZOO_SUITE_TEST_TIMEOUT
# (seconds for one test, default 60),
# KAZOO_SUITE_KEEP=1 keeps the work directory (server logs) even when the run passes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${KAZOO_PYTHON3:-/usr/bin/python3}
server=${1:?usage: run_kazoo_suite.sh zookeeper|corral [CORRAL_SERVER] [MODULE...]}
shift
tests_dir=$("$python" -c 'import kazoo.tests, os; print(os.path.dirname(kazoo.tests.__file__))')

work=$(mktemp -d "${TMPDIR:-/tmp}/corral-kazoo-suite.XXXXXX")
# Every process of this run (pytest, the servers kazoo starts, the shim) carries this marker in
# its environment: the cleanup kills exactly those, never another run's servers.
run_marker="CORRAL_KAZOO_RUN=$work"

# Kills (KILL) every process whose initial environment holds this run's marker.
kill_run_processes() {
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [[ $pid == "$$" ]] && continue
    if grep -qzxF "$run_marker" "$environ" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# The harness gives member i the ports OFFSET+10i .. OFFSET+10i+3 (client, election, leader,
# admin). Prints an OFFSET below the kernel's ephemeral range (where other tests' servers and
# every client socket get their ports) whose twelve ports are all free on 127.0.0.1 and on the
# wildcard address, and claims them for this script (scripts/port_claims.py) so that no test
# running beside it picks one while a member is down or not listening yet.
free_port_offset() {  # free_port_offset [TAKEN_BASE...]: not one of those
  "$python" - "$here/../../scripts" "$$" "$@" <<'PY'
import random, sys
sys.path.insert(0, sys.argv[1])
import port_claims
owner = int(sys.argv[2])
taken = {int(b) for b in sys.argv[3:]}
for _ in range(200):
    base = random.randrange(15000, 32000, 100)
    ports = [base + 10 * i + k for i in range(3) for k in range(4)]
    if base in taken or not all(port_claims.bindable(p, ("127.0.0.1", "0.0.0.0")) for p in ports):
        continue
    if all(port_claims.claim(p, owner) for p in ports):
        print(base)
        break
else:
    raise SystemExit("no free port range for the kazoo harness")
PY
}

# Prints the deselect list's node ids for SERVER ("both" lines apply to every server).
deselected() {
  local which servers id
  which=$1
  while read -r servers id _; do
    [[ -z $servers || $servers == \#* ]] && continue
    [[ $servers == both || $servers == "$which" ]] && echo "$id"
  done <"$here/deselect.txt"
}

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  kill_run_processes
  if [[ $rc == 0 && ${KAZOO_SUITE_KEEP:-0} != 1 ]]; then
    rm -rf "$work"
  else
    echo "kept $work (server logs)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# If this shell is killed without running its trap (SIGKILL on a ctest timeout), the watchdog
# still kills the run's servers.
(
  while kill -0 "$$" 2>/dev/null; do sleep 1; done
  kill_run_processes
) </dev/null >/dev/null 2>&1 &

env_args=(
  "$run_marker"
  ZOOKEEPER_CLUSTER_SIZE=3
  ZOOKEEPER_VERSION=3.8.0
  # test_sasl.py sets this itself; set from the start, the whole run uses one ensemble instead
  # of restarting it when test_sasl.py changes the harness's configuration.
  ZOOKEEPER_JAAS_AUTH=digest
  PYTHONDONTWRITEBYTECODE=1
  "TMPDIR=$work"
)
case $server in
  zookeeper)
    env_args+=(
      # Debian's zookeeper.jar names its dependencies in its manifest; slf4j-simple logs to
      # stderr, which pytest captures per test.
      "ZOOKEEPER_CLASSPATH=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
      "JAVA_TOOL_OPTIONS=-Xms32m -Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
    )
    ;;
  corral)
    corral_server=${1:?usage: run_kazoo_suite.sh corral CORRAL_SERVER [MODULE...]}
    shift
    [[ -x $corral_server ]] || { echo "not executable: $corral_server" >&2; exit 2; }
    env_args+=(
      "PATH=$here/shim:$PATH"
      "CORRAL_SERVER=$corral_server"
      "CORRAL_SHIM_LOG_DIR=$work/logs"
      # The shim checks the harness asks for this classpath: a sign the command is the harness's.
      ZOOKEEPER_CLASSPATH=corral-shim
    )
    ;;
  *)
    echo "unknown server '$server' (zookeeper or corral)" >&2
    exit 2
    ;;
esac

deselect_args=()
while read -r id; do deselect_args+=(--deselect "$id"); done < <(deselected "$server")

# The modules go round-robin into KAZOO_SUITE_PARTS pytest runs at once (default 2), each with
# an ensemble of its own: most of the suite's time is kazoo's own waiting (sleeps, timeouts,
# session expiry), and one run took 44-52 s. With no module named, one run takes them all.
parts=${KAZOO_SUITE_PARTS:-2}
(($# >= parts)) || parts=1
((parts > 0)) || parts=1
declare -a part_targets
i=0
for module in "$@"; do
  part_targets[i % parts]+=" $tests_dir/$module"
  i=$((i + 1))
done
(($#)) || part_targets[0]=$tests_dir

# run_part N PORT_OFFSET: pytest over part N's modules, its output in $work/part-N/pytest.log.
run_part() {
  local n=$1 offset=$2 dir="$work/part-$1" targets
  read -r -a targets <<<"${part_targets[n]}"
  mkdir -p "$dir"
  echo "kazoo suite against $server (part $((n + 1)) of $parts): ${targets[*]}"
  cd "$dir"
  env "${env_args[@]}" "ZOOKEEPER_PORT_OFFSET=$offset" "TMPDIR=$dir" \
    "CORRAL_SHIM_LOG_DIR=$dir/logs" timeout -k 10 "${KAZOO_SUITE_TIMEOUT:-600}" \
    "$python" -m pytest -p no:cacheprovider -p no:warnings -q -rfEs --rootdir="$tests_dir" \
    --timeout="${KAZOO_SUITE_TEST_TIMEOUT:-60}" "${deselect_args[@]}" "${targets[@]}" \
    >"$dir/pytest.log" 2>&1
}

# In the background so that a TERM or INT reaches the trap at once, not after pytest ends.
# pytest-timeout fails a test that hangs (a sync kazoo call the server never answers waits
# forever) instead of letting it eat the whole run.
declare -a part_pid offsets
for ((n = 0; n < parts; n++)); do
  offset=$(free_port_offset "${offsets[@]}")
  offsets+=("$offset")
  run_part "$n" "$offset" &
  part_pid[n]=$!
done
rc=0
for ((n = 0; n < parts; n++)); do
  part_rc=0
  wait "${part_pid[n]}" || part_rc=$?
  cat "$work/part-$n/pytest.log"
  ((part_rc != 124)) || echo "pytest did not finish within ${KAZOO_SUITE_TIMEOUT:-600} s"
  # The harness's atexit cleanup prints after pytest's summary: repeat the summary last.
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped|deselected)' \
    "$work/part-$n/pytest.log" | tail -n 1 || true)
  echo "kazoo suite against $server, part $((n + 1)) of $parts: ${summary:-no pytest summary} (exit $part_rc)"
  ((part_rc == 0)) || rc=$part_rc
done
exit "$rc"
