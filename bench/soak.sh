#!/usr/bin/env bash
# Soak of a 3-server Corral ensemble (issue 13: "an hour-long soak under constant mixed load
# shows flat RSS"): corral-bench's mixed workload runs back to back for MINUTES minutes while
# each server's RSS is sampled every SAMPLE_S seconds. Prints one line per sample, each
# corral-bench run's line, and a summary: each server's RSS once settled (the first sample 5
# minutes in), at the end, and its peak in between. A server that dies or a run that fails
# stops the soak with a non-zero status, and the data and logs are kept.
#
#   bench/soak.sh [BUILD_DIR]
#
# Environment (defaults): MINUTES=60 RUN_MINUTES=10 (length of each corral-bench run; every
# run keeps all its latencies in memory) SAMPLE_S=30 SESSIONS=6 INFLIGHT=100 KEYS=10000
# READ_RATIO=0.9 OUT= (also write the samples, tab-separated, there) KEEP=1 (keep the
# servers' data and logs)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
# shellcheck source=bench/local_ensemble.sh
source bench/local_ensemble.sh
SERVER=$build/bin/corral-server
BENCH=$build/bin/corral-bench
MINUTES=${MINUTES:-60}
RUN_MINUTES=${RUN_MINUTES:-10}
SAMPLE_S=${SAMPLE_S:-30}
SESSIONS=${SESSIONS:-6}
INFLIGHT=${INFLIGHT:-100}
KEYS=${KEYS:-10000}
READ_RATIO=${READ_RATIO:-0.9}
for bin in "$SERVER" "$BENCH"; do
  [[ -x $bin ]] || { echo "not built: $bin" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/corral-soak.XXXXXX")
ports=$(python3 scripts/port_claims.py pick 9 --owner $$)  # set -e sees a failure
read -r -a ports <<<"$ports"
pids=()
bench=
cleanup() {
  local status=$? p
  if [[ -n $bench ]]; then pkill -P "$bench" 2>/dev/null || true; kill "$bench" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $status != 0 || ${KEEP:-0} == 1 ]]; then echo "soak: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

servers=""
for i in 1 2 3; do servers+="server.$i=127.0.0.1:${ports[i + 2]}:${ports[i + 5]}"$'\n'; done
connect=""
for i in 1 2 3; do
  d=$work/s$i
  write_member_cfg "$d" "$i" "${ports[i - 1]}" "$servers"
  "$SERVER" "$d/zoo.cfg" >"$d/server.log" 2>&1 </dev/null &
  pids+=($!)
  connect+="${connect:+,}127.0.0.1:${ports[i - 1]}"
done
for i in 1 2 3; do
  deadline=$((SECONDS + 60))
  until [[ -n $(srvr_mode "${ports[i - 1]}") ]]; do
    ((SECONDS < deadline)) || { echo "server $i did not start" >&2; exit 1; }
    sleep 0.2
  done
done

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
sample() { # ELAPSED_S: one line of the three servers' RSS; fails when a server is gone
  local line="$1" p i=0 rss
  for p in "${pids[@]}"; do
    i=$((i + 1))
    rss=$(rss_mib "$p") || true
    if [[ -z $rss ]]; then
      echo "soak: server $i (pid $p) is gone; the end of its log:" >&2
      tail -20 "$work/s$i/server.log" >&2
      return 1
    fi
    line+=$'\t'"$rss"
  done
  echo "$line"
}

echo "soak: 3-server Corral ensemble, mixed ${READ_RATIO} reads, $SESSIONS sessions x $INFLIGHT" \
  "in flight, $KEYS keys, $MINUTES min in runs of $RUN_MINUTES min" >&2
samples=$work/samples.tsv
start=$SECONDS
runs=$(((MINUTES + RUN_MINUTES - 1) / RUN_MINUTES))
(
  for ((r = 1; r <= runs; r++)); do
    left=$((MINUTES * 60 - (SECONDS - start)))
    ((left > 0)) || break
    "$BENCH" --connect "$connect" --workload mixed --read-ratio "$READ_RATIO" \
      --sessions "$SESSIONS" --inflight "$INFLIGHT" --keys "$KEYS" --warmup 5 \
      --duration $((left < RUN_MINUTES * 60 ? left : RUN_MINUTES * 60)) \
      --server-pids "$(IFS=,; echo "${pids[*]}")" >>"$work/bench.log" 2>&1 ||
      { echo "corral-bench run $r failed (status $?)" >>"$work/bench.log"; exit 1; }
  done
) &
bench=$!
echo -e "seconds\tserver 1 RSS (MiB)\tserver 2 RSS (MiB)\tserver 3 RSS (MiB)"
while kill -0 "$bench" 2>/dev/null; do
  sample $((SECONDS - start)) | tee -a "$samples"
  sleep "$SAMPLE_S"
done
bench_status=0
wait "$bench" || bench_status=$?
bench=
sample $((SECONDS - start)) | tee -a "$samples"
echo "corral-bench runs (workload ops seconds ops/s p50 p99 p99.9 errors srv-CPU ops/CPU-s cli-CPU):"
grep -E '^(mixed[ :]|corral-bench run|corral-bench: session)' "$work/bench.log" || true
if [[ -n ${OUT:-} ]]; then cp "$samples" "$OUT"; fi
if [[ $bench_status != 0 ]]; then
  echo "soak: corral-bench failed; its output is in $work/bench.log" >&2
  exit 1
fi
# First sample after the first run's warm-up and 5 minutes of load, against the last.
python3 - "$samples" <<'PY'
import sys
rows = [list(map(float, l.split("\t"))) for l in open(sys.argv[1]) if l.strip()]
settled = next((r for r in rows if r[0] >= 300), rows[0])
last = rows[-1]
for i in range(1, len(last)):
    peak = max(r[i] for r in rows if r[0] >= settled[0])
    print(f"server {i}: {settled[i]:.1f} MiB at {settled[0]:.0f} s, {last[i]:.1f} MiB at "
          f"{last[0]:.0f} s ({last[i] - settled[i]:+.1f} MiB), peak {peak:.1f} MiB")
PY
