#!/usr/bin/env bash
# Servers for the compatibility tests: Apache ZooKeeper 3.8 (Debian package `zookeeper`) or any
# server command that takes a zoo.cfg path (Corral: build/bin/corral-server), each on a free
# loopback port with its own temporary dataDir, stopped and removed on exit.
#
# Sourced by run_compat.sh and zkcli_test.sh:
#   source zk_server.sh
#   compat_install_trap                         # stop every server on exit/INT/TERM
#   compat_server_launch zookeeper ref          # or: compat_server_launch /path/corral-server other
#   compat_server_wait ref                      # until `ruok` answers `imok`
#   echo "${COMPAT_HOSTPORT[ref]}"              # 127.0.0.1:PORT
#
# Run directly, it starts one server and keeps it until Ctrl-C, for trying things by hand:
#   tests/compat/zk_server.sh [zookeeper|SERVER_COMMAND]
#
# Environment: ZK_CLASSPATH, ZK_JVMFLAGS, COMPAT_START_TIMEOUT (seconds, default 60),
# COMPAT_KEEP_DIRS=1 to keep the temporary directories (logs, data) after exit.

# The super user's digest: super:superpw (the compat driver authenticates as it).
COMPAT_SUPER_DIGEST='super:g9oN2HttPfn8MMWJZ2r45Np/LIA='
# The container/TTL sweep period. ZooKeeper reads it only as a Java system property (a zoo.cfg
# key would become the unrelated property zookeeper.znode.container.checkIntervalMs); it is
# also written to zoo.cfg for servers that read it there.
COMPAT_CONTAINER_CHECK_MS=100
ZK_CLASSPATH=${ZK_CLASSPATH:-/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}

declare -gA COMPAT_PID COMPAT_DIR COMPAT_HOSTPORT COMPAT_KIND

# Prints a TCP port on 127.0.0.1 that nothing listens on (the kernel's pick when possible).
compat_free_port() {
  if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null; then
    return 0
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
}

# Sends a four-letter word to HOST PORT and prints the answer (empty if none within 2 s).
compat_4lw() {
  local host=$1 port=$2 word=$3
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "%s" "$2" >&3 && cat <&3' \
    "$host" "$port" "$word" 2>/dev/null
}

# Writes DIR/zoo.cfg for a standalone server on PORT with its data in DIR/data.
compat_write_cfg() {
  local dir=$1 port=$2
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=60
4lw.commands.whitelist=*
extendedTypesEnabled=true
admin.enableServer=false
znode.container.checkIntervalMs=$COMPAT_CONTAINER_CHECK_MS
DigestAuthenticationProvider.superDigest=$COMPAT_SUPER_DIGEST
EOF
}

# True if server KIND can be started: java for "zookeeper", else the command's first word is
# an executable.
compat_check_command() {
  local kind=$1 first
  if [[ $kind == zookeeper ]]; then
    command -v java >/dev/null && return 0
    echo "cannot start Apache ZooKeeper: no java (Debian packages zookeeper, default-jre-headless)" >&2
    return 1
  fi
  read -r first _ <<<"$kind"
  command -v "$first" >/dev/null 2>&1 && return 0
  echo "server command not found or not executable: $first (is the corral-server target built?)" >&2
  return 1
}

# Starts server KIND ("zookeeper" or a command taking the zoo.cfg path) under NAME in the
# background; compat_server_wait NAME waits until it serves.
compat_server_launch() {
  local kind=$1 name=$2 dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/corral-compat-$name.XXXXXX")
  port=$(compat_free_port)
  compat_write_cfg "$dir" "$port"
  COMPAT_DIR[$name]=$dir
  COMPAT_KIND[$name]=$kind
  COMPAT_HOSTPORT[$name]="127.0.0.1:$port"
  if [[ $kind == zookeeper ]]; then
    # ZooKeeperServerMain is the standalone server zkServer.sh runs for a one-server config;
    # started directly so that $! is the JVM itself.
    # shellcheck disable=SC2086
    java -Xms64m -Xmx512m -XX:+UseSerialGC ${ZK_JVMFLAGS:-} \
      "-Dznode.container.checkIntervalMs=$COMPAT_CONTAINER_CHECK_MS" \
      -Dzookeeper.admin.enableServer=false \
      -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" \
      >"$dir/server.log" 2>&1 &
  else
    # shellcheck disable=SC2086
    $kind "$dir/zoo.cfg" >"$dir/server.log" 2>&1 &
  fi
  local pid=$!
  COMPAT_PID[$name]=$pid
  # If this shell is killed without running its traps (e.g. SIGKILL on a test timeout), the
  # watchdog kills the server and removes its directory instead of leaving them behind.
  (
    while kill -0 "$$" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    if ! kill -0 "$$" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      [[ ${COMPAT_KEEP_DIRS:-0} == 1 ]] || rm -rf "$dir"
    fi
  ) </dev/null >/dev/null 2>&1 &
}

# True once server NAME is ready: `ruok` answers `imok` and `srvr` shows its Mode (ZooKeeper
# answers `ruok` before it serves; a client connecting then loses its first requests), or (for
# a server without four-letter words yet) its log says "serving on".
compat_server_ready() {
  local name=$1 hostport=${COMPAT_HOSTPORT[$1]}
  [[ $(compat_4lw "${hostport%:*}" "${hostport##*:}" ruok) == imok ]] &&
    compat_4lw "${hostport%:*}" "${hostport##*:}" srvr | grep -q '^Mode: ' && return 0
  [[ ${COMPAT_KIND[$name]} != zookeeper ]] && grep -q "serving on" "${COMPAT_DIR[$name]}/server.log" 2>/dev/null &&
    (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null
}

# Waits (polling with a deadline) until server NAME is ready; on failure prints its log.
compat_server_wait() {
  local name=$1 deadline=$((SECONDS + ${COMPAT_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    if ! kill -0 "${COMPAT_PID[$name]}" 2>/dev/null; then
      echo "server $name (${COMPAT_KIND[$name]}) exited during startup; log:" >&2
      tail -n 40 "${COMPAT_DIR[$name]}/server.log" >&2
      return 1
    fi
    compat_server_ready "$name" && return 0
    sleep 0.1
  done
  echo "server $name (${COMPAT_KIND[$name]}) not ready on ${COMPAT_HOSTPORT[$name]} after ${COMPAT_START_TIMEOUT:-60}s; log:" >&2
  tail -n 40 "${COMPAT_DIR[$name]}/server.log" >&2
  return 1
}

# Launches server KIND as NAME and waits for it; retried on a new port if it fails to start
# (another process may have taken the port in between).
compat_server_start() {
  local kind=$1 name=$2 _
  for _ in 1 2 3; do
    compat_server_launch "$kind" "$name"
    compat_server_wait "$name" && return 0
    compat_server_stop "$name"
  done
  return 1
}

# Stops server NAME (TERM, then KILL after 10 s) and removes its directory. Every step may
# fail harmlessly (the server may be gone already), also under `set -e`.
compat_server_stop() {
  local name=$1 pid=${COMPAT_PID[$1]:-} i
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [[ -z $pid ]] || wait "$pid" 2>/dev/null || true
  if [[ -n ${COMPAT_DIR[$name]:-} && ${COMPAT_KEEP_DIRS:-0} != 1 ]]; then
    rm -rf "${COMPAT_DIR[$name]}"
  elif [[ -n ${COMPAT_DIR[$name]:-} ]]; then
    echo "kept ${COMPAT_DIR[$name]}" >&2
  fi
  unset "COMPAT_PID[$name]" "COMPAT_DIR[$name]"
}

# Stops every server started by this shell.
compat_servers_stop() {
  local name
  for name in "${!COMPAT_PID[@]}"; do compat_server_stop "$name"; done
}

# Stops every server when the shell exits or is interrupted.
compat_install_trap() {
  trap compat_servers_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  compat_install_trap
  compat_server_start "${1:-zookeeper}" manual
  echo "${1:-zookeeper} serving on ${COMPAT_HOSTPORT[manual]} (dir ${COMPAT_DIR[manual]}); Ctrl-C stops it"
  wait "${COMPAT_PID[manual]}"
fi
