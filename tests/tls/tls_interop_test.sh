#!/usr/bin/env bash
# TLS on the client port, the same zoo.cfg text for Apache ZooKeeper 3.8 and Corral:
#   - kazoo (python3-kazoo) over TLS: CRUD with a certificate from the CA; no certificate and a
#     certificate from another CA refused with ssl.clientAuth=need; x509 ACLs
#     (tls_kazoo_check.py); a client without a certificate accepted with clientAuth=none;
#   - clientAuth=want (no certificate accepted, the CA's gives the x509 id, another CA's
#     refused) and ssl.ciphersuites (a client offering only an unlisted suite refused);
#   - Corral's CLI over TLS (--tls-ca, --tls-cert), its x509 identity, and a refused CA;
#   - zkCli.sh in TLS mode (ClientCnxnSocketNetty) against Corral's secure port;
#   - Corral with secureClientPort only, and its handshake timeout.
#   tests/tls/tls_interop_test.sh CORRAL_SERVER CORRAL_CLI
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corral_server=$1
cli=$2
python=/usr/bin/python3  # Debian's python3-kazoo lives there
# shellcheck source=../compat/zk_server.sh
source "$here/../compat/zk_server.sh"
# Debian's zookeeper.jar manifest leaves out two jars Netty's TLS handler needs.
netty_jars=/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar
ZK_CLASSPATH=$ZK_CLASSPATH:$netty_jars

certs=$(mktemp -d "${TMPDIR:-/tmp}/corral-tls-certs.XXXXXX")
# The check groups below run in subshells: stop them (their traps stop their servers) first.
trap 'kill $(jobs -p) 2>/dev/null || true; wait; compat_servers_stop; rm -rf "$certs"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$here/make_certs.sh" "$certs"

failures=0
check() {  # check DESCRIPTION COMMAND...: runs the command, reports ok/FAIL.
  local what=$1
  shift
  if "$@"; then echo "ok    $what"; else
    echo "FAIL  $what"
    failures=$((failures + 1))
  fi
}

# The zoo.cfg both servers get: DATADIR PORT SECURE_PORT (PORT 0: no plain port).
CLIENT_AUTH=need
CIPHERS=  # ssl.ciphersuites when set
PROTOCOL=TLSv1.2
PROTOCOLS=  # ssl.enabledProtocols when set
tls_cfg() {
  cat <<EOF
tickTime=2000
dataDir=$1
secureClientPort=$3
secureClientPortAddress=127.0.0.1
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
ssl.keyStore.location=$certs/server.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$certs/ca.crt
ssl.trustStore.type=PEM
ssl.clientAuth=$CLIENT_AUTH
ssl.protocol=$PROTOCOL
ssl.hostnameVerification=true
4lw.commands.whitelist=*
admin.enableServer=false
EOF
  [[ $2 == 0 ]] || printf 'clientPort=%s\nclientPortAddress=127.0.0.1\n' "$2"
  [[ -z $CIPHERS ]] || printf 'ssl.ciphersuites=%s\n' "$CIPHERS"
  [[ -z $PROTOCOLS ]] || printf 'ssl.enabledProtocols=%s\n' "$PROTOCOLS"
}
# zk_server.sh writes every server's zoo.cfg with this function: TLS keys for both kinds.
PLAIN_PORT=yes
compat_write_cfg() {
  local dir=$1 port=$2 secure
  secure=$(compat_free_port)
  echo "$secure" >"$dir/secure_port"
  mkdir -p "$dir/data"
  [[ $PLAIN_PORT == yes ]] || port=0
  tls_cfg "$dir/data" "$port" "$secure" >"$dir/zoo.cfg"
}

secure_port() { cat "${COMPAT_DIR[$1]}/secure_port"; }

# Corral's CLI against NAME's secure port, trusting the test CA.
corral_cli() {
  local name=$1
  shift
  "$cli" -s "127.0.0.1:$(secure_port "$name")" --timeout 4000 --tls-ca "$certs/ca.crt" "$@"
}

cli_create_get() {
  corral_cli "$1" --tls-cert "$certs/client.pem" create /cli hello >/dev/null &&
    [[ $(corral_cli "$1" --tls-cert "$certs/client.pem" get /cli) == hello ]]
}

cli_has_x509_id() {
  corral_cli "$1" --tls-cert "$certs/client.crt" --tls-key "$certs/client.key" whoami |
    grep -qxF "x509: CN=client,OU=Clients,O=Corral,C=US"
}

cli_refuses_rogue_ca() {
  ! "$cli" -s "127.0.0.1:$(secure_port "$1")" --timeout 1500 --tls-ca "$certs/rogue-ca.crt" \
    --tls-cert "$certs/client.pem" get /cli 2>/dev/null
}

cli_checks() {
  check "$1: corral CLI over TLS creates and reads" cli_create_get "$1"
  check "$1: corral CLI's session has the x509 id" cli_has_x509_id "$1"
  check "$1: corral CLI refuses a server its CA did not sign" cli_refuses_rogue_ca "$1"
}

zkcli_checks() {
  local name=$1 out
  out=$(printf 'create /zk hello\nget /zk\nls /\nquit\n' |
    CLIENT_JVMFLAGS="-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:$netty_jars \
      -Dzookeeper.client.secure=true \
      -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty \
      -Dzookeeper.ssl.keyStore.location=$certs/client.pem -Dzookeeper.ssl.keyStore.type=PEM \
      -Dzookeeper.ssl.trustStore.location=$certs/ca.crt -Dzookeeper.ssl.trustStore.type=PEM" \
      timeout 60 /usr/share/zookeeper/bin/zkCli.sh -server "127.0.0.1:$(secure_port "$name")" 2>&1)
  check "$name: zkCli.sh over TLS: create" grep -qx "Created /zk" <<<"$out"
  check "$name: zkCli.sh over TLS: get" grep -qx "hello" <<<"$out"
  check "$name: zkCli.sh over TLS: ls" grep -q "^\[.*zk.*\]$" <<<"$out"
}

# A four-letter word over TLS: the answer, then the server's close_notify before its FIN (a
# TLS client that sees a bare FIN cannot tell a complete answer from a truncated one).
tls_4lw_closes_cleanly() {  # tls_4lw_closes_cleanly PORT
  "$python" - "$1" "$certs" <<'PY'
import socket, ssl, sys
port, certs = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=certs + "/ca.crt")
ctx.load_cert_chain(certs + "/client.crt", certs + "/client.key")
# Debian's Python sets this by default, which would hide a missing close_notify.
ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
    s.sendall(b"ruok")
    answer = b""
    try:
        while chunk := s.recv(4096):
            answer += chunk
    except ssl.SSLEOFError as e:
        sys.exit(f"answer {answer!r}, then no close_notify: {e}")
sys.exit(0 if answer == b"imok" else f"answer {answer!r}")
PY
}

# A client that offers only OPENSSL_SUITE over TLS 1.2, or (suite "TLSv1.3") only TLS 1.3 with
# its default suites: with "ok", its handshake must succeed on that suite and ruok be answered;
# with "refused", the handshake must fail.
tls_cipher() {  # tls_cipher PORT OPENSSL_SUITE|TLSv1.3 ok|refused
  "$python" - "$1" "$certs" "$2" "$3" <<'PY'
import socket, ssl, sys
port, certs, suite, expect = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=certs + "/ca.crt")
ctx.load_cert_chain(certs + "/client.crt", certs + "/client.key")
if suite == "TLSv1.3":
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
else:
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(suite)
try:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"ruok")
            answer = s.recv(4)
            got = s.cipher()[0]
except (ssl.SSLError, ConnectionError) as e:
    sys.exit(0 if expect == "refused" else f"refused: {e}")
sys.exit(0 if expect == "ok" and suite in (got, "TLSv1.3") and answer == b"imok" else
         f"connected with {got}, answer {answer!r}")
PY
}

run_server() {  # run_server KIND NAME CLIENT_AUTH
  local kind=$1 name=$2
  CLIENT_AUTH=$3
  compat_server_start "$kind" "$name"
  echo "--- $name: $(grep -c . "${COMPAT_DIR[$name]}/zoo.cfg") zoo.cfg lines, TLS on $(secure_port "$name")"
}

# The checks on one kind of server (zookeeper, or Corral's command), one server at a time.
server_checks() {  # server_checks zookeeper|corral
  local kind=$1 command=$1
  [[ $kind == zookeeper ]] || command=$corral_server
  run_server "$command" "$kind" need
  check "$kind: kazoo, clientAuth=need" \
    timeout 60 "$python" "$here/tls_kazoo_check.py" "$(secure_port "$kind")" "$certs" need
  cli_checks "$kind"
  check "$kind: ruok over TLS, answered and closed with close_notify" \
    tls_4lw_closes_cleanly "$(secure_port "$kind")"
  [[ $kind == zookeeper ]] || zkcli_checks "$kind"
  compat_server_stop "$kind"

  run_server "$command" "$kind-none" none
  check "$kind: kazoo, clientAuth=none" \
    timeout 30 "$python" "$here/tls_kazoo_check.py" "$(secure_port "$kind-none")" "$certs" none
  compat_server_stop "$kind-none"

  # ZooKeeper's want: a certificate is asked for, not required. And ssl.ciphersuites: a
  # client whose only suite is outside the list cannot connect, one inside can, and with TLS
  # 1.3 enabled but none of its suites listed, a TLS 1.3-only client cannot either.
  CIPHERS=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 PROTOCOL=TLSv1.3 PROTOCOLS=TLSv1.2,TLSv1.3
  run_server "$command" "$kind-want" want
  CIPHERS='' PROTOCOL=TLSv1.2 PROTOCOLS=''
  check "$kind: kazoo, clientAuth=want" \
    timeout 60 "$python" "$here/tls_kazoo_check.py" "$(secure_port "$kind-want")" "$certs" want
  check "$kind: ssl.ciphersuites: a client offering a listed suite connects" \
    tls_cipher "$(secure_port "$kind-want")" ECDHE-ECDSA-AES256-GCM-SHA384 ok
  check "$kind: ssl.ciphersuites: a client offering only an unlisted suite is refused" \
    tls_cipher "$(secure_port "$kind-want")" ECDHE-ECDSA-AES128-GCM-SHA256 refused
  check "$kind: ssl.ciphersuites without a TLS 1.3 suite: a TLS 1.3-only client is refused" \
    tls_cipher "$(secure_port "$kind-want")" TLSv1.3 refused
  compat_server_stop "$kind-want"
}

# secureClientPort without clientPort: zk_server.sh's readiness check needs the plain port,
# so this waits for the TLS port to accept a kazoo session instead.
secure_only_checks() {
  PLAIN_PORT=no
  CLIENT_AUTH=need
  compat_server_launch "$corral_server" secure-only
  # shellcheck disable=SC2016  # $0 is expanded by the inner bash
  check "corral secureClientPort only: no plain port in its zoo.cfg" \
    bash -c '! grep -q "^clientPort" "$0"' "${COMPAT_DIR[secure-only]}/zoo.cfg"
  local deadline=$((SECONDS + 20)) silent_client
  until grep -q "serving TLS on" "${COMPAT_DIR[secure-only]}/server.log" 2>/dev/null; do
    ((SECONDS < deadline)) || break
    sleep 0.1
  done
  # A client that connects and never starts the TLS handshake is closed after 10 s (Netty's
  # handshake timeout), not held forever; it runs next to the kazoo check.
  "$python" - "$(secure_port secure-only)" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
started = time.monotonic()
closed = s.recv(1) == b""
sys.exit(0 if closed and 8 < time.monotonic() - started < 20 else 1)
PY
  silent_client=$!
  check "corral secureClientPort only: kazoo, clientAuth=need" \
    timeout 60 "$python" "$here/tls_kazoo_check.py" "$(secure_port secure-only)" "$certs" need
  check "corral secureClientPort only: a client without a TLS handshake is closed after 10 s" \
    wait "$silent_client"
  compat_server_stop secure-only
}

# The three groups run at the same time: most of each is waiting (JVM starts, refusals, the
# 10 s handshake timeout), and one after another they took 45-85 s. Each group is a subshell
# with its own servers (stopped by its own trap) and its output in a file, shown in order.
groups=(zookeeper corral secure-only)
declare -A group_pid
for group in "${groups[@]}"; do
  (
    trap compat_servers_stop EXIT
    trap 'exit 143' TERM
    if [[ $group == secure-only ]]; then secure_only_checks; else server_checks "$group"; fi
    if ((failures > 0)); then
      echo "$group: $failures check(s) failed"
      exit 1
    fi
  ) >"$certs/$group.out" 2>&1 &
  group_pid[$group]=$!
done
for group in "${groups[@]}"; do
  status=0
  wait "${group_pid[$group]}" || status=$?
  cat "$certs/$group.out"
  if ((status > 0)); then
    echo "FAIL  $group: a check failed or the group stopped early (exit $status)"
    failures=$((failures + 1))
  fi
done

if ((failures > 0)); then
  echo "$failures of ${#groups[@]} group(s) failed"
  exit 1
fi
echo "all TLS interop checks passed"
