#!/usr/bin/env bash
# The README's main-job command. Until the ensemble and the master-worker demo
# exist, it starts a standalone Corral server on 127.0.0.1:2181 and prints how
# to connect with zkCli.sh and Apache's C client. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
run_dir=$(mktemp -d /tmp/corral-main.XXXXXX)
mkdir -p "$run_dir/data"
cat > "$run_dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$run_dir/data
clientPort=${CORRAL_PORT:-2181}
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
extendedTypesEnabled=true
CFG
cat <<MSG
Corral standalone server on 127.0.0.1:${CORRAL_PORT:-2181} (config: $run_dir/zoo.cfg)
Connect with:
  /usr/share/zookeeper/bin/zkCli.sh -server 127.0.0.1:${CORRAL_PORT:-2181}
  cli_mt 127.0.0.1:${CORRAL_PORT:-2181}
  echo ruok | nc 127.0.0.1 ${CORRAL_PORT:-2181}
Ctrl-C stops the server.
MSG
exec build/bin/corral-server "$run_dir/zoo.cfg"
