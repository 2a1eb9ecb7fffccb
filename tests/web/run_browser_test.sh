#!/usr/bin/env bash
# Runs the dashboard's browser test (dashboard_test.mjs: headless Debian chromium through
# playwright-core) against
#   --mock                 tests/web/mock_api.py (in-memory API + SSE, serving web/), or
#   --real BUILD_DIR       a real 3-server Corral ensemble, 1 master, 2 workers and
#                          BUILD_DIR/bin/corral-mw dashboard --web web/.
# Options: --screenshot PATH (default: BUILD_DIR or /tmp ... /dashboard-{mock,real}.png),
#          --narrow-screenshot PATH.
# Environment overrides for --real: CORRAL_MW, INTEROP_LOCK_WORKER, CORRAL_SERVER (the binaries).
# Needs node + npm and /usr/bin/chromium (scripts/install-deps.sh); fails loudly without them.
# Every process it starts is stopped on exit, however it exits.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode="" build_dir="" screenshot="" narrow=""
while (($#)); do
  case $1 in
    --mock) mode=mock ;;
    --real) mode=real; build_dir=${2:?--real needs BUILD_DIR}; shift ;;
    --screenshot) screenshot=${2:?}; shift ;;
    --narrow-screenshot) narrow=${2:?}; shift ;;
    *) echo "usage: $0 --mock | --real BUILD_DIR [--screenshot PATH] [--narrow-screenshot PATH]" >&2
       exit 2 ;;
  esac
  shift
done
[[ -n $mode ]] || { echo "usage: $0 --mock | --real BUILD_DIR [--screenshot PATH]" >&2; exit 2; }

die() { echo "run_browser_test: $*" >&2; exit 1; }
command -v node >/dev/null || die "node is missing: apt-get install -y nodejs npm"
command -v npm >/dev/null || die "npm is missing: apt-get install -y nodejs npm"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || die "${CHROMIUM:-/usr/bin/chromium} is missing: apt-get install -y chromium"
command -v python3 >/dev/null || die "python3 is missing"

# playwright-core, pinned by package-lock.json. Offline-safe once node_modules is in place.
pinned=$(node -e 'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' \
  "$here/package-lock.json")
installed=$(node -e 'console.log(require(process.argv[1]).version)' \
  "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [[ $installed != "$pinned" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $here"
fi

work=$(mktemp -d /tmp/corral-web-test.XXXXXX)
pids=()
ens_fd=""
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $ens_fd ]]; then  # closing its stdin stops the ensemble and removes its directory
    exec {ens_fd}>&- || true
    [[ -n ${ens_pid:-} ]] && wait "$ens_pid" 2>/dev/null || true
  fi
  if ((rc != 0)); then
    for f in "$work"/*.log; do
      [[ -s $f ]] || continue
      echo "---- $(basename "$f") (last 40 lines)" >&2
      tail -n 40 "$f" >&2
    done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds, or fails loudly.
wait_for() {
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" 2>/dev/null; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || die "a process it started (pid $pid) exited while waiting for $what"
    done
    sleep 0.1
  done
}

http_ok() { python3 - "$1" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

test_args=()
if [[ $mode == mock ]]; then
  screenshot=${screenshot:-/tmp/corral-dashboard-mock.png}
  python3 -u "$here/mock_api.py" --port 0 --web "$root/web" --demo --history 35 \
    > "$work/mock.log" 2>&1 &
  pids+=($!)
  wait_for 20 "mock_api.py to listen" grep -q '^listening ' "$work/mock.log"
  base=$(sed -n 's/^listening //p' "$work/mock.log" | head -n1)
  test_args=(--workers 3 --servers 3 --min-chart-points 5 --mock-controls)
else
  [[ -d $build_dir ]] || die "no build directory $build_dir"
  build_dir=$(cd "$build_dir" && pwd)
  screenshot=${screenshot:-$build_dir/dashboard-real.png}
  mw=${CORRAL_MW:-$build_dir/bin/corral-mw}
  ilw=${INTEROP_LOCK_WORKER:-$build_dir/bin/interop_lock_worker}
  export CORRAL_SERVER=${CORRAL_SERVER:-$build_dir/bin/corral-server}
  for b in "$mw" "$ilw" "$CORRAL_SERVER"; do [[ -x $b ]] || die "$b is missing: build it first"; done

  # The ensemble: interop_lock_worker keeps it while its stdin is open and prints
  # "hosts <connect string> <dir>" once all three servers serve.
  mkfifo "$work/ens.in"
  "$ilw" ensemble --impl corral < "$work/ens.in" > "$work/ensemble.out" 2> "$work/ensemble.log" &
  ens_pid=$!
  exec {ens_fd}> "$work/ens.in"
  wait_for 120 "the ensemble to start" grep -q '^hosts ' "$work/ensemble.out"
  hosts=$(awk '/^hosts /{print $2; exit}' "$work/ensemble.out")
  echo "ensemble: $hosts"

  "$mw" master --zk "$hosts" > "$work/master.log" 2>&1 &
  pids+=($!)
  for w in 1 2; do
    "$mw" worker --zk "$hosts" --id "web-worker-$w" --slots 2 > "$work/worker-$w.log" 2>&1 &
    pids+=($!)
  done
  port=$(free_port)
  "$mw" dashboard --port "$port" --zk "$hosts" --web "$root/web" --history "$work/history.db" \
    > "$work/dashboard.log" 2>&1 &
  pids+=($!)
  base="http://127.0.0.1:$port/"
  wait_for 60 "the dashboard on $base" http_ok "${base}api/summary"
  test_args=(--workers 2 --servers 3 --min-chart-points 1 --timeout-ms 60000)
fi

[[ -n $narrow ]] && test_args+=(--narrow-screenshot "$narrow")
echo "dashboard: $base"
node "$here/dashboard_test.mjs" "$base" "$screenshot" "${test_args[@]}"
echo "screenshot: $screenshot"
