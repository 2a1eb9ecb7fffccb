#!/usr/bin/env bash
# SASL DIGEST-MD5 on the client port, Apache ZooKeeper 3.8 and Corral side by side. Both servers
# get the same JAAS file (users bob, alice, super) through the same JVM flags
# (SERVER_JVMFLAGS for corral-server, as zkServer.sh passes them to ZooKeeper), then:
#   1. sasl_kazoo.py (kazoo + pure-sasl) runs against each; both transcripts must equal
#      sasl_kazoo.expected (login, sasl:bob ACL, NOAUTH without it, super user, wrong
#      password and unknown user refused);
#   2. Corral's CLI (the client library's Options::sasl) logs in to each with --sasl and with
#      --jaas (a client JAAS file's Client section), creates and reads a sasl:bob node, and is
#      refused with a wrong password.
#   sasl_interop_test.sh CORRAL_SERVER CORRAL_CLI
set -euo pipefail
corral_server=$1
cli=$2
here=$(cd "$(dirname "$0")" && pwd)
python=${KAZOO_PYTHON3:-/usr/bin/python3}
# shellcheck source=../compat/zk_server.sh
source "$here/../compat/zk_server.sh"
work=$(mktemp -d /tmp/corral-sasl-test.XXXXXX)
compat_install_trap
trap 'compat_servers_stop; rm -rf "$work"' EXIT

cat >"$work/jaas.conf" <<'JAAS'
/* The server's DIGEST-MD5 users, as in ZooKeeper's SASL guide. */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret"
  user_alice="alicesecret";
};
JAAS
cat >"$work/client.conf" <<'JAAS'
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="bobsecret";
};
JAAS
flags="-Djava.security.auth.login.config=$work/jaas.conf -Dzookeeper.superUser=super"
# ZooKeeper knows the sasl ACL scheme only with its provider registered; Corral always does.
ZK_JVMFLAGS="$flags -Dzookeeper.authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
export SERVER_JVMFLAGS=$flags

compat_server_launch zookeeper zookeeper
compat_server_launch "$corral_server" corral
compat_server_wait zookeeper
compat_server_wait corral

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}

for name in zookeeper corral; do
  hp=${COMPAT_HOSTPORT[$name]}
  echo "== kazoo against $name ($hp)"
  timeout 120 "$python" "$here/sasl_kazoo.py" "$hp" >"$work/$name.txt" 2>"$work/$name.err" ||
    { cat "$work/$name.err"; fail "sasl_kazoo.py against $name exited with $?"; }
  cat "$work/$name.txt"
  diff -u "$here/sasl_kazoo.expected" "$work/$name.txt" || fail "kazoo transcript of $name differs"
done

# corral CLI: run NAME EXPECTED_EXIT ARGS... ; output in $out.
run() {
  local name=$1 want=$2
  shift 2
  local rc=0
  out=$(timeout 30 "$cli" -s "${COMPAT_HOSTPORT[$name]}" --timeout 5000 "$@" 2>&1) || rc=$?
  echo "\$ corral $* -> $rc: $out"
  [[ $rc == "$want" ]] || fail "$name: corral $*: exit $rc, expected $want"
}

for name in zookeeper corral; do
  echo "== corral CLI against $name"
  run "$name" 0 --sasl bob:bobsecret create /cli sasl-data sasl:bob:cdrwa
  run "$name" 0 --sasl bob:bobsecret get /cli
  [[ $out == *sasl-data* ]] || fail "$name: bob cannot read his node"
  run "$name" 0 --jaas "$work/client.conf" getAcl /cli
  [[ $out == *"'sasl,'bob"* ]] || fail "$name: getAcl through --jaas does not show sasl:bob"
  run "$name" 0 --sasl bob:bobsecret whoami
  [[ $out == *sasl*bob* ]] || fail "$name: whoami does not list the sasl identity"
  run "$name" 1 get /cli
  [[ $out == *NoAuth* || $out == *NOAUTH* ]] || fail "$name: an anonymous read is not NOAUTH"
  run "$name" 1 --sasl bob:wrong get /cli
  [[ $out == *"refused the SASL login of bob"* ]] || fail "$name: a wrong password is not refused"
  run "$name" 0 --sasl super:adminsecret delete /cli
done

# ZooKeeper lets an unknown user in with the password of the user its (shared) callback handler
# looked up last; Corral must not.
echo "== corral: an unknown user with another user's password"
run corral 1 --sasl bob:wrong get /
run corral 1 --sasl mallory:bobsecret get /
[[ $out == *"refused the SASL login of mallory"* ]] || fail "corral: mallory got in with bob's password"

((failed == 0)) && echo "PASS: SASL DIGEST-MD5 behaves the same on ZooKeeper and Corral"
exit "$failed"
