#!/bin/sh
# Removes the network namespaces of nemesis runs, named cnm<pid>-<member>, with any process
# still inside them; deleting a run's hub namespace also deletes the veth it has in the root.
#   netns_cleanup.sh          those of runs whose test process is gone (crashed or killed)
#   netns_cleanup.sh PID      those of the run of process PID, whatever its state
# The test runs the first form before it builds a topology, and the second from a watcher
# process when it exits in any way (see netns.cc).
set -u
only="${1:-}"
ip netns list 2>/dev/null | while read -r name _; do
  case "$name" in cnm[0-9]*-*) ;; *) continue ;; esac
  pid=${name#cnm}
  pid=${pid%%-*}
  if [ -n "$only" ]; then
    [ "$pid" = "$only" ] || continue
  elif kill -0 "$pid" 2>/dev/null; then
    continue
  fi
  for p in $(ip netns pids "$name" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  ip netns del "$name" 2>/dev/null
  # The root end of the run's veth goes with the hub namespace, but only once the kernel has
  # torn that down; deleting it here makes the cleanup synchronous.
  ip link del "cnm${pid}r" 2>/dev/null
done
exit 0
