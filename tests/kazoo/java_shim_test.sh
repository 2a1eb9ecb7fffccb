#!/usr/bin/env bash
# Checks shim/java without any server: a stand-in CORRAL_SERVER records the zoo.cfg it is given
# and its pid. The shim must translate the harness's JVM flags (JAAS file, read-only mode, the
# super digest) to zoo.cfg lines, drop only the JVM-only ones, exec the server (same pid, so
# the harness's terminate() reaches it) and refuse anything it cannot translate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shim=$here/shim/java
work=$(mktemp -d "${TMPDIR:-/tmp}/corral-java-shim-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

mkdir -p "$work/member/data"
echo 2 >"$work/member/data/myid"
printf 'tickTime=2000\ndataDir=%s\nclientPort=1\n' "$work/member/data" >"$work/member/zoo.cfg"
cat >"$work/fake-server" <<'SH'
#!/usr/bin/env bash
echo "pid $$"
cat "$1"
SH
chmod +x "$work/fake-server"
export CORRAL_SERVER=$work/fake-server CORRAL_SHIM_LOG_DIR=$work/logs
main=org.apache.zookeeper.server.quorum.QuorumPeerMain

# The command kazoo 2.8's harness runs (kazoo/testing/common.py), with ZOOKEEPER_VERSION 3.8.
"$shim" -cp /usr/share/java/zookeeper.jar -Dfile.encoding=UTF-8 -Dreadonlymode.enabled=true \
  -Dzookeeper.log.dir=/tmp/log -Dzookeeper.root.logger=INFO,CONSOLE \
  -Dlog4j.configuration=file:/tmp/log4j.properties -Djava.awt.headless=true \
  -Djava.security.auth.login.config=/tmp/jaas.conf \
  -Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU= \
  "$main" "$work/member/zoo.cfg" &
pid=$!
wait "$pid" || fail "the shim exited with $?"
log=$work/logs/member-2.log
[[ -f $log ]] || fail "no server log at $log"
cat "$log"
grep -qx "pid $pid" "$log" || fail "the server is not the shim's process (no exec)"
for line in "clientPort=1" "java.security.auth.login.config=/tmp/jaas.conf" \
  "readonlymode.enabled=true" "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU="; do
  grep -qxF "$line" "$log" || fail "translated zoo.cfg lacks '$line'"
done
for word in UTF-8 log4j headless CONSOLE; do
  ! grep -q "$word" "$log" || fail "a JVM-only flag reached the zoo.cfg: $word"
done
[[ $(cat "$work/member/zoo.cfg") != *readonlymode* ]] || fail "the shim changed the harness's zoo.cfg"

# Refused: exit 2 with a message naming the flag, and no server started.
refused() {
  local want=$1 out rc=0
  shift
  out=$("$shim" "$@" 2>&1) || rc=$?
  echo "refused ($rc): $out"
  [[ $rc == 2 && $out == *"$want"* ]] || fail "expected exit 2 naming '$want', got $rc: $out"
}
rm -rf "$work/logs"
refused -Xmx1g -Xmx1g "$main" "$work/member/zoo.cfg"
refused -Djava.security.krb5.conf -Djava.security.krb5.conf=/etc/krb5.conf "$main" "$work/member/zoo.cfg"
refused ZooKeeperServerMain -cp x org.apache.zookeeper.server.ZooKeeperServerMain "$work/member/zoo.cfg"
refused "one zoo.cfg" "$main" "$work/member/zoo.cfg" extra
refused "no such zoo.cfg" "$main" "$work/missing.cfg"
CORRAL_SERVER="" refused CORRAL_SERVER "$main" "$work/member/zoo.cfg"
[[ ! -e $work/logs ]] || fail "a refused command started the server"

((failed == 0)) && echo "java shim: all checks passed"
exit "$failed"
