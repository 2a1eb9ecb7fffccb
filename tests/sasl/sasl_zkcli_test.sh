#!/usr/bin/env bash
# ZooKeeper's own Java client -- the library Kafka's ZooKeeper client is -- logging in with SASL
# DIGEST-MD5 to Apache ZooKeeper 3.8 and to Corral. Both servers get the same zoo.cfg and the
# same JAAS Server section (users bob, alice, super); zkCli.sh gets a JAAS file through
# CLIENT_JVMFLAGS, as Kafka's brokers get theirs. Four zkCli.sh sessions per server:
#   bob       the `Client` section (the default of zookeeper.sasl.clientconfig, as in Kafka):
#             whoami shows sasl:bob, creates a sasl:bob:cdrwa node, reads it, getAcl;
#   kafka     Kafka's settings spelled out: zookeeper.sasl.clientconfig naming another section
#             and zookeeper.sasl.client.username=zookeeper; reads and writes bob's node;
#   wrong     bob with a wrong password: ZooKeeper answers ZAUTHFAILED and closes, the client
#             raises AuthFailed and stops ("Not connected"), no reconnect loop;
#   anonymous no JAAS file: NoAuth on bob's node.
# Each session's transcript (watcher events, then command output, then zkCli.sh's exit status)
# must equal sasl_zkcli.expected for both servers.
#   sasl_zkcli_test.sh CORRAL_SERVER
set -euo pipefail
corral_server=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../compat/zk_server.sh
source "$here/../compat/zk_server.sh"
zkcli=/usr/share/zookeeper/bin/zkCli.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/corral-sasl-zkcli.XXXXXX")
compat_install_trap
trap 'compat_servers_stop; rm -rf "$work"' EXIT

cat >"$work/server.conf" <<'JAAS'
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret"
  user_alice="alicesecret";
};
JAAS
client_jaas() {  # client_jaas SECTION PASSWORD: a client JAAS file logging in as bob
  cat <<JAAS
$1 {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="$2";
};
JAAS
}
client_jaas Client bobsecret >"$work/bob.conf"
client_jaas KafkaZkClient bobsecret >"$work/kafka.conf"
client_jaas Client wrongsecret >"$work/wrong.conf"

flags="-Djava.security.auth.login.config=$work/server.conf -Dzookeeper.superUser=super"
# ZooKeeper knows the sasl ACL scheme only with its provider registered; Corral always does.
ZK_JVMFLAGS="$flags -Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
export SERVER_JVMFLAGS=$flags
compat_server_launch zookeeper zookeeper
compat_server_launch "$corral_server" corral
compat_server_wait zookeeper
compat_server_wait corral

# A zkCli.sh transcript made comparable: the watcher events (printed by the event thread, so
# interleaved with command output at random) first and in their order, without Closed (zkCli.sh
# may exit before printing it); then the command output without the banner; whoami's ids
# sorted (ZooKeeper keeps them in a hash set, in no defined order). A command refused after a
# failed login prints AuthFailed if it was queued before the refusal came and "Not connected"
# after: which one depends on the JVM's threads, so both read the same (the AuthFailed event,
# and no reconnect, are what tell the servers apart).
normalise() {
  /usr/bin/python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
events = [m.group(1) for l in lines if (m := re.match(r"WatchedEvent state:(\w+)", l))]
print("events:", " ".join(e for e in events if e != "Closed"))
noise = re.compile(r"^(SLF4J:|Connecting to |Welcome to ZooKeeper|JLine support|WATCHER::|WatchedEvent |\s*$)")
ids, out = [], []
for l in lines + [""]:
    if re.match(r"^(ip|sasl|super|digest|x509): ", l):
        ids.append(l)
        continue
    out += sorted(ids)
    ids = []
    if re.match(r"^(KeeperErrorCode = AuthFailed for |Not connected$)", l):
        l = "refused: AuthFailed or not connected"
    if not noise.match(l):
        out.append(re.sub(r"0x[0-9a-f]+", "0x<session>", l))
print("\n".join(out))
'
}

# session SERVER NAME COMMANDS [JVM FLAGS]: one zkCli.sh run fed COMMANDS on stdin.
session() {
  local name=$1 label=$2 commands=$3 rc=0 raw
  raw=$(printf '%s\nquit\n' "$commands" |
    CLIENT_JVMFLAGS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC ${4:-}" \
      timeout 30 "$zkcli" -server "${COMPAT_HOSTPORT[$name]}" 2>&1) || rc=$?
  echo "## $label"
  normalise <<<"$raw"
  echo "exit: $rc"
}

transcript() {  # transcript SERVER
  local name=$1
  session "$name" bob $'whoami\ncreate /kafka broker-data sasl:bob:cdrwa\nget /kafka\ngetAcl /kafka' \
    "-Djava.security.auth.login.config=$work/bob.conf"
  session "$name" kafka $'whoami\nset /kafka v2\nget /kafka' \
    "-Djava.security.auth.login.config=$work/kafka.conf -Dzookeeper.sasl.clientconfig=KafkaZkClient -Dzookeeper.sasl.client.username=zookeeper"
  session "$name" wrong $'get /kafka\nls /' "-Djava.security.auth.login.config=$work/wrong.conf"
  session "$name" anonymous $'whoami\nget /kafka\nls /'
}

failed=0
started=$SECONDS
for name in zookeeper corral; do
  echo "== zkCli.sh against $name (${COMPAT_HOSTPORT[$name]})"
  transcript "$name" >"$work/$name.txt"
  cat "$work/$name.txt"
  diff -u "$here/sasl_zkcli.expected" "$work/$name.txt" ||
    { echo "FAIL: zkCli.sh transcript of $name differs from sasl_zkcli.expected"; failed=1; }
done
echo "zkCli.sh sessions took $((SECONDS - started)) s"
((failed == 0)) && echo "PASS: the Java client's SASL login behaves the same on ZooKeeper and Corral"
exit "$failed"
