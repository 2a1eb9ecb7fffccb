# shellcheck shell=bash
# Sourced by the bench scripts that run local ensembles on 127.0.0.1 (compare_ensemble.sh,
# soak.sh): one zoo.cfg for Corral and ZooKeeper members alike, and the `srvr` probe.

# write_member_cfg DIR ID CLIENT_PORT SERVERS: member ID's DIR/zoo.cfg and DIR/data/myid;
# SERVERS holds the ensemble's server.N lines (and an observer's peerType=observer).
write_member_cfg() {
  local d=$1
  mkdir -p "$d/data"
  echo "$2" >"$d/data/myid"
  cat >"$d/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=$3
clientPortAddress=127.0.0.1
maxClientCnxns=0
forceSync=yes
snapCount=100000
4lw.commands.whitelist=*
admin.enableServer=false
$4
CFG
}

srvr_mode() { # PORT: the Mode line of `srvr` on 127.0.0.1:PORT, empty when not serving
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf srvr >&3 && cat <&3' "$1" \
    2>/dev/null | sed -n 's/^Mode: //p' || true
}
