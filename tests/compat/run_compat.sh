#!/usr/bin/env bash
# Runs every compat_driver scenario against Apache ZooKeeper 3.8 and against OTHER, and fails
# with the diff if any transcript differs.
#
#   tests/compat/run_compat.sh OTHER [SCENARIO...]
#
# OTHER is `zookeeper` (a second Apache ZooKeeper: proves the transcripts hold nothing
# nondeterministic) or a server command taking a zoo.cfg path, e.g. build/bin/corral-server.
# Scenarios default to all of them (compat_driver --list).
#
# Environment:
#   COMPAT_DRIVER   path of compat_driver (default: the newest build*/bin/compat_driver)
#   COMPAT_SEED     seed of the random scenario (default: $RANDOM, printed)
#   COMPAT_OUT_DIR  where transcripts go (default: a temporary directory, kept on failure)
#   COMPAT_SCENARIO_TIMEOUT  seconds one driver run may take (default 120; exit 124 after)
#   and those of zk_server.sh.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=zk_server.sh
source "$here/zk_server.sh"

usage() {
  echo "usage: $0 zookeeper|SERVER_COMMAND [SCENARIO...]" >&2
  exit 64
}

find_driver() {
  if [[ -n ${COMPAT_DRIVER:-} ]]; then
    echo "$COMPAT_DRIVER"
    return
  fi
  # shellcheck disable=SC2012  # the newest build directory's driver
  ls -t "$repo"/build*/bin/compat_driver 2>/dev/null | head -n 1
}

# Runs SCENARIO against both servers at once and compares; returns 1 on any difference.
run_scenario() {
  local scenario=$1 seed=$2
  local ref_out="$out_dir/$scenario.zookeeper.txt" other_out="$out_dir/$scenario.other.txt"
  local ref_rc other_rc
  local limit=${COMPAT_SCENARIO_TIMEOUT:-120}
  timeout "$limit" "$driver" "${COMPAT_HOSTPORT[ref]}" "$scenario" "$seed" \
    >"$ref_out" 2>"$ref_out.err" &
  local ref_pid=$!
  timeout "$limit" "$driver" "${COMPAT_HOSTPORT[other]}" "$scenario" "$seed" \
    >"$other_out" 2>"$other_out.err" &
  local other_pid=$!
  wait "$ref_pid"
  ref_rc=$?
  wait "$other_pid"
  other_rc=$?
  if ((ref_rc != 0)); then
    echo "FAIL $scenario: compat_driver against Apache ZooKeeper exited $ref_rc"
    tail -n 20 "$ref_out.err"
    return 1
  fi
  if ((other_rc != 0)); then
    echo "FAIL $scenario: compat_driver against $other exited $other_rc"
    tail -n 20 "$other_out.err"
  fi
  if ! diff -u --label "$scenario (Apache ZooKeeper)" --label "$scenario ($other)" \
    "$ref_out" "$other_out" >"$out_dir/$scenario.diff"; then
    echo "FAIL $scenario: transcripts differ ($(grep -c '^[-+][^-+]' "$out_dir/$scenario.diff") lines)"
    head -n "${COMPAT_DIFF_LINES:-80}" "$out_dir/$scenario.diff"
    return 1
  fi
  ((other_rc == 0)) || return 1
  echo "ok   $scenario ($(wc -l <"$ref_out") lines)"
}

main() {
  (($# >= 1)) || usage
  other=$1
  shift
  driver=$(find_driver)
  if [[ -z $driver || ! -x $driver ]]; then
    echo "compat_driver not found; build it (cmake --build BUILD --target compat_driver) or set COMPAT_DRIVER" >&2
    exit 2
  fi
  local scenarios=("$@") seed=${COMPAT_SEED:-$RANDOM} failed=0 scenario
  ((${#scenarios[@]} > 0)) || mapfile -t scenarios < <("$driver" --list)
  out_dir=${COMPAT_OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/corral-compat-out.XXXXXX")}
  mkdir -p "$out_dir"
  echo "compat: Apache ZooKeeper vs $other; random seed $seed (reproduce with COMPAT_SEED=$seed)"

  compat_install_trap
  compat_check_command "$other" || exit 2
  # Both start at once; a server that fails to come up gets retried on another port.
  compat_server_launch zookeeper ref
  compat_server_launch "$other" other
  local name kind
  for name in ref other; do
    kind=${COMPAT_KIND[$name]}
    if ! compat_server_wait "$name"; then
      compat_server_stop "$name"
      compat_server_start "$kind" "$name" || exit 2
    fi
  done

  for scenario in "${scenarios[@]}"; do
    run_scenario "$scenario" "$seed" || failed=1
  done
  if ((failed)); then
    echo "compat: FAILED; transcripts in $out_dir (random seed $seed)"
    exit 1
  fi
  [[ -n ${COMPAT_OUT_DIR:-} ]] || rm -rf "$out_dir"
  echo "compat: all ${#scenarios[@]} scenarios match"
}

main "$@"
