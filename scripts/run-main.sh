#!/usr/bin/env bash
# The README's main command: the master-worker demo. Installs what it needs, builds, starts a
# local 3-server Corral ensemble (client ports 2181-2183), 2 masters, 3 workers and the
# dashboard on http://localhost:8080, submits a stream of tasks and prints what happens.
#
#   scripts/run-main.sh [--chaos] [--duration S] [--port P]
#
#   --chaos        kills (kill -9) the active master, then a worker, then the ensemble's
#                  leader, at set times, and restarts each; prints how long each failover took
#   --duration S   stops submitting after S seconds, waits for the tasks to finish and prints
#                  a summary (otherwise it runs until Ctrl-C, which also prints it)
#   --port P       the dashboard's port (default 8080)
#
# Environment: CORRAL_PORT changes the first client port (the others follow it).
set -euo pipefail
cd "$(dirname "$0")/.."

chaos=0
duration=0
port=8080
while (($#)); do
  case $1 in
    --chaos) chaos=1 ;;
    --duration) duration=${2:?--duration needs seconds}; shift ;;
    --port) port=${2:?--port needs a number}; shift ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-main.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $duration =~ ^[0-9]+$ && $port =~ ^[0-9]+$ ]] || { echo "run-main.sh: numbers wanted" >&2; exit 2; }

scripts/install-deps.sh
scripts/build.sh build
bin=$PWD/build/bin
base=${CORRAL_PORT:-2181}
run_dir=$(mktemp -d /tmp/corral-demo.XXXXXX)
api=http://127.0.0.1:$port/api
declare -A pids  # name -> pid of every process started here
failovers=()
submitted=0
started_at=$SECONDS

log() { printf '[%4ds] %s\n' $((SECONDS - started_at)) "$*"; }

stop_all() {
  local name alive i
  for name in "${!pids[@]}"; do kill "${pids[$name]}" 2>/dev/null || true; done
  # They are disowned (no "Killed" lines): poll until they are gone, SIGKILL after 5 s.
  for i in $(seq 50); do
    alive=0
    for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  for name in "${!pids[@]}"; do kill -9 "${pids[$name]}" 2>/dev/null || true; done
}

# json EXPR: evaluates the Python expression EXPR on the JSON read from stdin (as j).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

summary_line() {
  curl -sf "$api/summary" | json '"master=%s backups=%s workers=%d pending=%d assigned=%d running=%d done=%d failed=%d reassigned=%d ran_twice=%d" % (j["master"], ",".join(j["backups"]) or "-", j["workers"], j["tasks"]["pending"], j["tasks"]["assigned"], j["tasks"]["running"], j["tasks"]["done"], j["tasks"]["failed"], j["reassigned"], j["ran_twice"])' 2>/dev/null ||
    echo "(dashboard not answering)"
}

final_summary() {
  echo
  echo "== summary after $((SECONDS - started_at)) s =="
  echo "submitted: $submitted"
  echo "now:       $(summary_line)"
  if ((${#failovers[@]})); then
    printf 'failovers: %s\n' "${failovers[@]}"
  fi
  echo "logs and data: $run_dir"
}

on_exit() {
  final_summary
  stop_all
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hosts="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"

start_server() {
  local i=$1 dir=$run_dir/s$1
  build/bin/corral-server "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
  pids[server$i]=$!
  disown  # killed on purpose: no "Killed" line from the shell
}

write_ensemble() {
  local i servers=""
  for i in 1 2 3; do
    servers+="server.$i=127.0.0.1:$((base + 705 + i)):$((base + 1705 + i))"$'\n'
  done
  for i in 1 2 3; do
    mkdir -p "$run_dir/s$i/data"
    echo "$i" >"$run_dir/s$i/data/myid"
    cat >"$run_dir/s$i/zoo.cfg" <<CFG
tickTime=500
initLimit=10
syncLimit=5
dataDir=$run_dir/s$i/data
clientPort=$((base + i - 1))
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
extendedTypesEnabled=true
$servers
CFG
  done
}

# What member PORT answers to the four-letter word `srvr` (nothing when it is down).
srvr() {
  timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf srvr >&3 && cat <&3' "$1" 2>/dev/null
}

# The member (1-3) that says it leads, or nothing.
ensemble_leader() {
  local i
  for i in 1 2 3; do
    if srvr $((base + i - 1)) | grep -q "Mode: leader"; then
      echo "$i"
      return
    fi
  done
}

# wait_for SECONDS COMMAND...: polls COMMAND every 100 ms until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

start_master() {
  "$bin/corral-mw" master --zk "$hosts" --id "master-$1" --session-timeout-ms 4000 \
    >>"$run_dir/master-$1.log" 2>&1 &
  pids[master-$1]=$!
  disown
}

start_worker() {
  "$bin/corral-mw" worker --zk "$hosts" --id "worker-$1" --slots 2 --session-timeout-ms 4000 \
    >>"$run_dir/worker-$1.log" 2>&1 &
  pids[worker-$1]=$!
  disown
}

active_master() { curl -sf "$api/master" | json 'j["active"] or ""' 2>/dev/null; }
killed_master=""
master_changed() {
  local a
  a=$(active_master)
  [[ -n $a && $a != "$killed_master" ]]
}
has_leader() { [[ -n $(ensemble_leader) ]]; }
worker_gone() { curl -sf "$api/workers" | json '"'"$1"'" not in [w["id"] for w in j]' | grep -q True; }

# Submits a few tasks: mostly sleeps, some hashes, now and then one that fails.
submit_some() {
  local kind=sleep arg=$((200 + RANDOM % 800)) count=3
  ((RANDOM % 4 == 0)) && kind=hash arg=$((1 + RANDOM % 8))000000 count=1
  ((RANDOM % 10 == 0)) && kind=fail arg="" count=1
  if "$bin/corral-mw" submit --zk "$hosts" --kind "$kind" --arg "$arg" --count "$count" \
    >>"$run_dir/submit.log" 2>&1; then
    submitted=$((submitted + count))
  fi
}

kill_master() {
  local active
  active=$(active_master)
  [[ -n $active && -n ${pids[$active]:-} ]] || { log "chaos: no active master to kill"; return; }
  local t0=$SECONDS
  kill -9 "${pids[$active]}"
  log "chaos: kill -9 $active (the active master)"
  killed_master=$active
  if wait_for 30 master_changed; then
    failovers+=("master: $active -> $(active_master) within $((SECONDS - t0 + 1)) s")
    log "chaos: ${failovers[-1]}"
  fi
  start_master "${active#master-}"
  log "chaos: $active restarted (now a backup)"
}

kill_worker() {
  kill -9 "${pids[worker-2]}"
  log "chaos: kill -9 worker-2 (its tasks go to the others once its session expires)"
  local t0=$SECONDS
  if wait_for 30 worker_gone worker-2; then
    failovers+=("worker: worker-2's session expired (its tasks go back to the queue) within $((SECONDS - t0 + 1)) s")
    log "chaos: ${failovers[-1]}"
  fi
  start_worker 2
  log "chaos: worker-2 restarted"
}

kill_leader() {
  local leader
  leader=$(ensemble_leader)
  [[ -n $leader ]] || { log "chaos: no ensemble leader to kill"; return; }
  local t0=$SECONDS
  kill -9 "${pids[server$leader]}"
  log "chaos: kill -9 ensemble server $leader (the leader)"
  if wait_for 30 has_leader; then
    failovers+=("ensemble: leader $leader gone, new leader $(ensemble_leader) within $((SECONDS - t0 + 1)) s")
    log "chaos: ${failovers[-1]}"
  fi
  start_server "$leader"
  log "chaos: server $leader restarted"
}

write_ensemble
for i in 1 2 3; do start_server "$i"; done
wait_for 30 has_leader || { echo "the ensemble did not elect a leader" >&2; exit 1; }
log "ensemble up on $hosts (leader: server $(ensemble_leader))"
for i in 1 2; do start_master "$i"; done
for i in 1 2 3; do start_worker "$i"; done
"$bin/corral-mw" dashboard --zk "$hosts" --port "$port" --history "$run_dir/history.db" \
  --web "$PWD/web" >>"$run_dir/dashboard.log" 2>&1 &
pids[dashboard]=$!
wait_for 30 curl -sf "$api/summary" -o /dev/null || { echo "the dashboard did not start" >&2; exit 1; }
log "dashboard on http://localhost:$port (2 masters, 3 workers; logs in $run_dir)"

next_report=$((SECONDS + 5))
chaos_step=0
while ((duration == 0 || SECONDS - started_at < duration)); do
  submit_some
  if ((chaos)); then
    elapsed=$((SECONDS - started_at))
    if ((chaos_step == 0 && elapsed >= 15)); then
      kill_master
      chaos_step=1
    elif ((chaos_step == 1 && elapsed >= 30)); then
      kill_worker
      chaos_step=2
    elif ((chaos_step == 2 && elapsed >= 45)); then
      kill_leader
      chaos_step=3
    fi
  fi
  if ((SECONDS >= next_report)); then
    log "$(summary_line)"
    next_report=$((SECONDS + 5))
  fi
  sleep 1
done

log "stopped submitting; waiting (up to 120 s) for every task to finish"
drained() {
  curl -sf "$api/summary" | json 'j["tasks"]["pending"] + j["tasks"]["assigned"] + j["tasks"]["running"] == 0 and j["tasks"]["done"] + j["tasks"]["failed"] >= '"$submitted" | grep -q True
}
wait_for 120 drained || log "not every task finished within 120 s"
