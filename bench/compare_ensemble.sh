#!/usr/bin/env bash
# Side-by-side benchmark of ensembles (issue 13; 3 voters unless MEMBERS/OBSERVERS say else):
# Apache ZooKeeper 3.8 (Debian) and Corral with the same zoo.cfg settings (tickTime, initLimit/syncLimit, forceSync=yes,
# snapCount), on one machine, data dirs under one temp dir.
#
#   bench/compare_ensemble.sh [BUILD_DIR]
#
# 1. Both ensembles run at once. After an unrecorded warm-up round, each workload runs ROUNDS
#    times against ZooKeeper, then Corral, then ZooKeeper... with two clients so that neither
#    can flatter one server: corral-bench (Corral's client; SESSIONS sessions pinned to the
#    members in turn) and, where it has the workload, corral-load (bench/load.cc, Apache's C
#    client, one session on a follower). Figures: throughput, p50/p99/p99.9 latency, and
#    operations per server CPU-second (all the members' utime+stime together), the
#    client's own CPU per operation (it shares the machine: it bounds what the servers see),
#    and for the write workloads the bytes the members wrote to storage per operation.
# 2. Then each ensemble alone, fresh: load NODES znodes of SIZE bytes, RSS; kill -9 of all
#    members and restart: time until every member reads the last znode, RSS after recovery;
#    a follower restarted with an empty data dir: time until it reads the last znode.
# 3. The disk's fsync floor (median 4 KiB write+fdatasync in the data dir's filesystem), alone
#    and with one writer per server at once.
# Prints one markdown table (medians over the rounds; ratio = Corral / ZooKeeper) with the
# machine and the exact command, on stdout and into OUT if set.
#
# Environment (defaults): ROUNDS=2 NODES=100000 (1000000 by hand) SIZE=100
#   WORKLOADS=create,set,get,mixed,multi,set-latency,get-latency,watch,churn
#   DURATION=10 BENCH_WARMUP=2 (corral-bench's seconds per run) WARMUP_ROUND=3 (seconds per
#   workload in the warm-up round; 0 skips it) SESSIONS=6 INFLIGHT=100 (corral-bench)
#   WATCH_SESSIONS=10000 (the watch fan-out's sessions, each watching the one node)
#   WATCH_THREADS=2 (corral-bench's I/O threads in the fan-out: with one, its 10,000 sessions'
#   reads wait for one core while the servers' sends use the other; bench/RESULTS.md, 2026-12-06)
#   LOAD_OPS=100000 LOAD_INFLIGHT=1000 LATENCY_OPS=2000 (corral-load) FSYNC_SAMPLES=200
#   ZK_JVMFLAGS= (JVM defaults, as Debian's zkServer.sh) OUT= KEEP=1 keeps the temp dir
#   CORRAL_SERVER, CORRAL_BENCH, CORRAL_LOAD: the binaries (default BUILD_DIR/bin/...)
#   MEMBERS=3 (voters) OBSERVERS=0 (observers too; pinned sessions cover every member)
#   MEM_IMPLS="zookeeper corral" (whose memory, restart and rejoin step 2 measures; with
#   WORKLOADS= (empty), step 1 is skipped, e.g. to time one server's restart; MEM_IMPLS=none
#   skips step 2)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
CORRAL_SERVER=${CORRAL_SERVER:-$build/bin/corral-server}
CORRAL_BENCH=${CORRAL_BENCH:-$build/bin/corral-bench}
CORRAL_LOAD=${CORRAL_LOAD:-$build/bin/corral-load}
ROUNDS=${ROUNDS:-2}
NODES=${NODES:-100000}
SIZE=${SIZE:-100}
WORKLOADS=${WORKLOADS-create,set,get,mixed,multi,set-latency,get-latency,watch,churn}
DURATION=${DURATION:-10}
BENCH_WARMUP=${BENCH_WARMUP:-2}
WARMUP_ROUND=${WARMUP_ROUND:-3}
SESSIONS=${SESSIONS:-6}
MEMBERS=${MEMBERS:-3}
OBSERVERS=${OBSERVERS:-0}
TOTAL=$((MEMBERS + OBSERVERS))
ALL=$(seq -s ' ' 1 "$TOTAL") # every member's id: voters first, then observers
INFLIGHT=${INFLIGHT:-100}
WATCH_SESSIONS=${WATCH_SESSIONS:-10000}
WATCH_THREADS=${WATCH_THREADS:-2}
LOAD_OPS=${LOAD_OPS:-100000}
LOAD_INFLIGHT=${LOAD_INFLIGHT:-1000}
LATENCY_OPS=${LATENCY_OPS:-2000}
FSYNC_SAMPLES=${FSYNC_SAMPLES:-200}
ZK_JVMFLAGS=${ZK_JVMFLAGS:-}
ZK_CP=${ZK_CLASSPATH:-/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}
START_TIMEOUT=${START_TIMEOUT:-120}
PY=${PYTHON:-/usr/bin/python3} # kazoo (Debian python3-kazoo) lives there
helper=bench/compare_ensemble.py
# shellcheck source=bench/local_ensemble.sh
source bench/local_ensemble.sh
command_line="${ZK_JVMFLAGS:+ZK_JVMFLAGS=\"$ZK_JVMFLAGS\" }${MEM_IMPLS:+MEM_IMPLS=\"$MEM_IMPLS\" }MEMBERS=$MEMBERS OBSERVERS=$OBSERVERS ROUNDS=$ROUNDS NODES=$NODES SIZE=$SIZE WORKLOADS=$WORKLOADS DURATION=$DURATION \
BENCH_WARMUP=$BENCH_WARMUP WARMUP_ROUND=$WARMUP_ROUND SESSIONS=$SESSIONS INFLIGHT=$INFLIGHT \
WATCH_SESSIONS=$WATCH_SESSIONS WATCH_THREADS=$WATCH_THREADS LOAD_OPS=$LOAD_OPS LOAD_INFLIGHT=$LOAD_INFLIGHT LATENCY_OPS=$LATENCY_OPS bench/compare_ensemble.sh $build"

if [[ ,$WORKLOADS, == *,watch,* ]]; then
  # corral-bench holds a socket per watching session (and the servers a third each).
  need=$((WATCH_SESSIONS + 1024))
  if (($(ulimit -n) < need)) && ! ulimit -n "$need" 2>/dev/null; then
    echo "WATCH_SESSIONS=$WATCH_SESSIONS needs 'ulimit -n' of $need; it is $(ulimit -n)" >&2
    exit 1
  fi
fi

for bin in "$CORRAL_SERVER" "$CORRAL_BENCH" "$CORRAL_LOAD"; do
  if [[ ! -x $bin ]]; then
    echo "not built: $bin (targets corral-server corral-bench corral-load)" >&2
    exit 1
  fi
done
IFS=, read -r -a workloads <<<"$WORKLOADS"
for w in "${workloads[@]}"; do
  [[ $w =~ ^(create|set|get|mixed|multi|set-latency|get-latency|watch|churn)$ ]] ||
    { echo "unknown workload $w" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/corral-compare-ensemble.XXXXXX")
results=$work/results.tsv
: >"$work/pids"
: >"$results"
declare -A PID PORT QPORT EPORT IMPL LEADER FOLLOWERS OBSERVING

cleanup() {
  local p
  kill "$watchdog" 2>/dev/null || true
  for p in "${PID[@]}"; do if [[ -n $p ]]; then kill -9 "$p" 2>/dev/null || true; fi; done
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
# If this shell dies without its traps (SIGKILL on a CTest timeout), the watchdog kills
# every server it started and removes the directory.
(
  while kill -0 $$ 2>/dev/null; do sleep 1; done
  while read -r p; do kill -9 "$p" 2>/dev/null; done <"$work/pids"
  rm -rf "$work"
) </dev/null >/dev/null 2>&1 &
watchdog=$!
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "compare_ensemble: $*" >&2; }
rec() { # IMPL WORKLOAD CLIENT MEASURE VALUE: one figure; a missing one stops the run
  [[ $5 =~ ^[0-9]+(\.[0-9]+)?$ ]] || { log "no figure for $1 $2 $3 $4: '$5'"; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
}

is_observer() { (($1 > MEMBERS)); }

ens_setup() { # TAG IMPL: ports, zoo.cfg and myid of every member; nothing runs yet
  local tag=$1 i d servers="" ports
  ports=$("$PY" scripts/port_claims.py pick $((3 * TOTAL)) --owner $$)  # set -e sees a failure
  read -r -a ports <<<"$ports"
  IMPL[$tag]=$2
  for i in $ALL; do
    PORT[$tag.$i]=${ports[i - 1]} QPORT[$tag.$i]=${ports[i - 1 + TOTAL]}
    EPORT[$tag.$i]=${ports[i - 1 + 2 * TOTAL]}
    servers+="server.$i=127.0.0.1:${QPORT[$tag.$i]}:${EPORT[$tag.$i]}"
    if is_observer "$i"; then servers+=":observer"; fi
    servers+=$'\n'
  done
  for i in $ALL; do
    if is_observer "$i"; then
      write_member_cfg "$work/$tag/s$i" "$i" "${PORT[$tag.$i]}" "${servers}peerType=observer"
    else
      write_member_cfg "$work/$tag/s$i" "$i" "${PORT[$tag.$i]}" "$servers"
    fi
  done
}

ens_start() { # TAG I
  local tag=$1 i=$2 d=$work/$1/s$2
  if [[ ${IMPL[$tag]} == zookeeper ]]; then
    # shellcheck disable=SC2086  # ZK_JVMFLAGS is a list of words
    java $ZK_JVMFLAGS -Dzookeeper.admin.enableServer=false -cp "$ZK_CP" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >>"$d/server.log" 2>&1 </dev/null &
  else
    "$CORRAL_SERVER" "$d/zoo.cfg" >>"$d/server.log" 2>&1 </dev/null &
  fi
  PID[$tag.$i]=$!
  echo "$!" >>"$work/pids"
}

ens_kill() { # TAG I
  kill -9 "${PID[$1.$2]}" 2>/dev/null || true
  wait "${PID[$1.$2]}" 2>/dev/null || true
  PID[$1.$2]=""
}

ens_wait() { # TAG: until all serve and one leads; sets LEADER, FOLLOWERS and OBSERVING
  local tag=$1 deadline=$((SECONDS + START_TIMEOUT)) i leaders followers observers
  while ((SECONDS < deadline)); do
    leaders=() followers=() observers=()
    for i in $ALL; do
      if ! kill -0 "${PID[$tag.$i]}" 2>/dev/null; then
        log "${IMPL[$tag]} member $i exited; its log:"
        tail -n 30 "$work/$tag/s$i/server.log" >&2
        return 1
      fi
      case $(srvr_mode "${PORT[$tag.$i]}") in
        leader) leaders+=("$i") ;;
        follower) followers+=("$i") ;;
        observer) observers+=("$i") ;;
      esac
    done
    if ((${#leaders[@]} == 1 && ${#followers[@]} == MEMBERS - 1 &&
      ${#observers[@]} == OBSERVERS)); then
      LEADER[$tag]=${leaders[0]} FOLLOWERS[$tag]="${followers[*]}" OBSERVING[$tag]="${observers[*]}"
      return 0
    fi
    sleep 0.1
  done
  log "${IMPL[$tag]} ensemble not serving after ${START_TIMEOUT}s"
  return 1
}

ens_up() { # TAG: start all members, wait for the quorum
  local i
  for i in $ALL; do ens_start "$1" "$i"; done
  ens_wait "$1"
}

ens_down() { local i; for i in $ALL; do ens_kill "$1" "$i"; done; }

# Followers first: one-session runs (latency, corral-load) talk to a follower, as most
# clients of a 3-server ensemble do; pinned sessions still cover every member (observers after
# the followers).
hosts() {
  local tag=$1 i out=""
  for i in ${FOLLOWERS[$tag]} ${OBSERVING[$tag]} ${LEADER[$tag]}; do
    out+=${out:+,}127.0.0.1:${PORT[$tag.$i]}
  done
  echo "$out"
}
follower_hp() { local f=${FOLLOWERS[$1]%% *}; echo "127.0.0.1:${PORT[$1.$f]}"; }
pids() {
  local i out=""
  for i in $ALL; do out+=${out:+,}${PID[$1.$i]}; done
  echo "$out"
}

cpu_total() { # TAG: every member's utime+stime in seconds
  local i
  for i in $ALL; do cat "/proc/${PID[$1.$i]}/stat"; done |
    awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f", s / hz }'
}

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/${PID[$1.$2]}/status"; }

rec_rss() { # TAG WORKLOAD: RSS of the leader and the followers' mean
  local tag=$1 f sum=0 n=0
  rec "${IMPL[$tag]}" "$2" "-" "RSS of the leader (MiB)" "$(rss_mib "$tag" "${LEADER[$tag]}")"
  for f in ${FOLLOWERS[$tag]}; do
    sum=$(awk -v a="$sum" -v b="$(rss_mib "$tag" "$f")" 'BEGIN { printf "%.1f", a + b }')
    n=$((n + 1))
  done
  rec "${IMPL[$tag]}" "$2" "-" "RSS of a follower, mean (MiB)" \
    "$(awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.1f", s / n }')"
}

run_bench() { # TAG WORKLOAD SECONDS RECORD(0|1): one corral-bench run
  local tag=$1 w=$2 json rc=0 args
  case $w in
    set-latency) args=(--workload latency --sessions 1 --inflight 1) ;;
    get-latency) args=(--workload get --sessions 1 --inflight 1) ;;
    # Issue 13's fan-out: that many sessions watch one node, and one set notifies them all.
    watch) args=(--workload watch --sessions "$WATCH_SESSIONS" --inflight 1 --threads "$WATCH_THREADS") ;;
    *) args=(--workload "$w" --sessions "$SESSIONS" --inflight "$INFLIGHT") ;;
  esac
  json=$("$CORRAL_BENCH" --connect "$(hosts "$tag")" "${args[@]}" --value-size "$SIZE" \
    --warmup "$BENCH_WARMUP" --duration "$3" --server-pids "$(pids "$tag")" --json \
    2>>"$work/bench.log") || rc=$?
  if ((rc != 0 && rc != 3)); then # 3: some operations failed, counted in the JSON
    log "corral-bench $w against ${IMPL[$tag]} failed (exit $rc):"
    tail -n 20 "$work/bench.log" >&2
    return 1
  fi
  if ((rc == 3)); then # kept, and said: a figure that comes out low or zero has its reason here
    log "corral-bench $w against ${IMPL[$tag]}: some operations failed:"
    tail -n 20 "$work/bench.log" >&2
  fi
  if (($4)); then "$PY" "$helper" bench "${IMPL[$tag]}" "$w" <<<"$json" >>"$results"; fi
}

has_load() { [[ $1 =~ ^(create|set|get|set-latency)$ ]]; }

run_load() { # TAG WORKLOAD ROUND: one corral-load run (Apache's C client)
  local tag=$1 w=$2 hp c0 c1 out impl=${IMPL[$1]}
  hp=$(follower_hp "$tag")
  # Every create round gets a fresh parent (a chroot): load.cc always creates /bench/n0...
  [[ $w == create ]] && "$PY" "$helper" mkpath "$hp" "/load-r$3"
  c0=$(cpu_total "$tag")
  case $w in
    create) out=$("$CORRAL_LOAD" "$hp/load-r$3" create "$LOAD_OPS" "$SIZE" "$LOAD_INFLIGHT") ;;
    set) out=$("$CORRAL_LOAD" "$hp" set "$LOAD_OPS" "$SIZE" "$LOAD_INFLIGHT") ;;
    get) out=$("$CORRAL_LOAD" "$hp" get "$LOAD_OPS" "$LOAD_INFLIGHT") ;;
    set-latency) out=$("$CORRAL_LOAD" "$hp" latency "$LATENCY_OPS" "$SIZE") ;;
  esac
  c1=$(cpu_total "$tag")
  if [[ $w == set-latency ]]; then
    rec "$impl" "$w" "C client" "p50 µs" "$(sed -nE 's/.*p50=([0-9.]+).*/\1/p' <<<"$out")"
    rec "$impl" "$w" "C client" "p99 µs" "$(sed -nE 's/.*p99=([0-9.]+).*/\1/p' <<<"$out")"
  else
    rec "$impl" "$w" "C client" "ops/s" "$(sed -nE 's/.*ops_per_sec=([0-9.]+).*/\1/p' <<<"$out")"
    rec "$impl" "$w" "C client" "ops per server CPU-s" \
      "$(awk -v n="$LOAD_OPS" -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b > a) ? n / (b - a) : 0 }')"
  fi
}

probe_members() { # TAG PATH MEMBER...: until each member reads PATH (1 ms polls)
  local tag=$1 path=$2 i p=() rc=0
  shift 2
  for i in "$@"; do
    "$CORRAL_LOAD" "127.0.0.1:${PORT[$tag.$i]}" probe "$path" 600 >/dev/null &
    p+=($!)
  done
  for i in "${p[@]}"; do wait "$i" || rc=1; done
  return $rc
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

memory_and_restart() { # TAG: load, RSS, kill -9 of all and restart, a follower's rejoin
  local tag=$1 impl=${IMPL[$1]} hp out t0 f last="/mem/bench/n$((NODES - 1))"
  local loaded="load $NODES znodes of $SIZE B"
  ens_up "$tag"
  hp=$(follower_hp "$tag")
  "$PY" "$helper" mkpath "$hp" /mem
  out=$("$CORRAL_LOAD" "$hp/mem" create "$NODES" "$SIZE" "$LOAD_INFLIGHT")
  rec "$impl" "$loaded" "C client" "create ops/s" \
    "$(sed -nE 's/.*ops_per_sec=([0-9.]+).*/\1/p' <<<"$out")"
  rec_rss "$tag" "$loaded"
  ens_down "$tag"
  t0=$(date +%s.%N)
  for f in $ALL; do ens_start "$tag" "$f"; done
  # shellcheck disable=SC2086  # ALL is a list of ids
  probe_members "$tag" "$last" $ALL
  rec "$impl" "kill -9 of all $TOTAL, restart" "C client" \
    "time until all $TOTAL read the last znode (s)" "$(elapsed "$t0")"
  ens_wait "$tag"
  rec_rss "$tag" "kill -9 of all $TOTAL, restart"
  f=${FOLLOWERS[$tag]%% *}
  ens_kill "$tag" "$f"
  rm -rf "$work/$tag/s$f/data"
  mkdir -p "$work/$tag/s$f/data"
  echo "$f" >"$work/$tag/s$f/data/myid"
  t0=$(date +%s.%N)
  ens_start "$tag" "$f"
  probe_members "$tag" "$last" "$f"
  rec "$impl" "a follower rejoins with an empty disk" "C client" \
    "time until it reads the last znode (s)" "$(elapsed "$t0")"
  ens_down "$tag"
}

log "fsync floor in $work"
fsync_us=$("$PY" "$helper" fsync "$work" "$FSYNC_SAMPLES")
# Every server syncs its own log at once for each write: on one disk those syncs queue.
fsync_all_us=$("$PY" "$helper" fsync "$work" "$FSYNC_SAMPLES" "$TOTAL")

if [[ ${#workloads[@]} -gt 0 ]]; then
  log "starting both ensembles"
  ens_setup zk zookeeper
  ens_setup corral corral
  for i in $ALL; do ens_start zk "$i" && ens_start corral "$i"; done
  ens_wait zk
  ens_wait corral

  if [[ $WARMUP_ROUND != 0 ]]; then
    log "warm-up round (${WARMUP_ROUND}s per workload, not recorded)"
    for w in "${workloads[@]}"; do
      for tag in zk corral; do run_bench "$tag" "$w" "$WARMUP_ROUND" 0; done
    done
  fi
  for w in "${workloads[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do
      for tag in zk corral; do
        log "$w, round $r/$ROUNDS, ${IMPL[$tag]}"
        run_bench "$tag" "$w" "$DURATION" 1
        if has_load "$w"; then run_load "$tag" "$w" "$r"; fi
      done
    done
  done
  ens_down zk
  ens_down corral
fi

for impl in ${MEM_IMPLS:-zookeeper corral}; do
  [[ $impl == none ]] && continue
  log "memory, restart and rejoin: $impl with $NODES znodes"
  ens_setup "$impl-mem" "$impl"
  memory_and_restart "$impl-mem"
done

shape="$MEMBERS voters"
if ((OBSERVERS)); then shape+=" + $OBSERVERS observer(s)"; fi
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
memory=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
{
  echo "- Machine: $(nproc) cores, ${model:-unknown CPU}, $memory, Linux $(uname -r), $(date -u +%F)"
  echo "- Command: \`$command_line\`"
  echo "- Ensembles: $shape each"
  echo "- Disk fsync floor (median 4 KiB write+fdatasync, $FSYNC_SAMPLES samples," \
    "in the data dirs' filesystem): $fsync_us µs alone, $fsync_all_us µs with $TOTAL at once"
  echo
  "$PY" "$helper" table "$results"
  echo
  echo "Medians over $ROUNDS round(s). Ratio = Corral / ZooKeeper: above 1 is better for" \
    "ops/s, below 1 for latency, RSS, time and bytes written."
} | if [[ -n ${OUT:-} ]]; then tee "$OUT"; else cat; fi
