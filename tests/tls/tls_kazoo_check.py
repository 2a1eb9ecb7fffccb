"""kazoo over TLS against one server's secureClientPort: what a ZooKeeper user checks.

  tls_kazoo_check.py PORT CERT_DIR need|want|none

need: a client with the CA's certificate connects and does create/get/set/children/delete;
one without a certificate and one with a certificate from another CA are refused; a node
with ACL x509:<subject DN of the client>:cdrwa is readable by that client only.
none: a client without a certificate connects and does the same CRUD.
want: as none, and a client with the CA's certificate gets its x509 id (a node with its ACL is
readable by it, NOAUTH for the client without one); a certificate from another CA is refused.
Prints one line per check; exits 1 on the first failure.
"""
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import make_acl

PORT, CERTS, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
CLIENT_DN = "CN=client,OU=Clients,O=Corral,C=US"


def connect(name, ca="ca", start_timeout=15):
    """A started client with certificate NAME (None: none). A JVM server's first TLS handshakes
    took more than 2.5 s on a loaded CI machine: one that should succeed gets 15 s."""
    kw = dict(use_ssl=True, ca=f"{CERTS}/{ca}.crt", verify_certs=True)
    if name:
        kw.update(certfile=f"{CERTS}/{name}.crt", keyfile=f"{CERTS}/{name}.key")
    zk = KazooClient(hosts=f"127.0.0.1:{PORT}", timeout=4,
                     connection_retry=dict(max_tries=1, delay=0.1), **kw)
    zk.start(timeout=start_timeout)
    return zk


def check(what, ok):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        sys.exit(1)


def refused(name):
    try:
        connect(name, start_timeout=2.5).stop()
        return False
    except KazooTimeoutError:
        return True


def crud(zk):
    zk.create("/tls", b"one")
    zk.set("/tls", b"two")
    zk.create("/tls/child", b"")
    ok = zk.get("/tls")[0] == b"two" and zk.get_children("/tls") == ["child"]
    zk.delete("/tls", recursive=True)
    return ok and zk.exists("/tls") is None


if MODE == "none":
    zk = connect(None)
    check("clientAuth=none: a client without a certificate does CRUD", crud(zk))
    zk.stop()
    sys.exit(0)

if MODE == "want":
    anonymous = connect(None)
    check("clientAuth=want: a client without a certificate does CRUD", crud(anonymous))
    zk = connect("client")
    zk.create("/x509", b"secret", acl=[make_acl("x509", CLIENT_DN, all=True)])
    check("clientAuth=want: a certificate from the CA gives its x509 id",
          zk.get("/x509")[0] == b"secret")
    try:
        anonymous.get("/x509")
        check("clientAuth=want: NOAUTH on the x509 node without a certificate", False)
    except NoAuthError:
        check("clientAuth=want: NOAUTH on the x509 node without a certificate", True)
    zk.delete("/x509")
    zk.stop()
    anonymous.stop()
    check("clientAuth=want: a certificate from another CA is refused", refused("rogue"))
    sys.exit(0)

zk = connect("client")
check("client certificate from the CA: CRUD", crud(zk))
zk.create("/x509", b"secret", acl=[make_acl("x509", CLIENT_DN, all=True)])
check("x509 ACL: readable by its subject", zk.get("/x509")[0] == b"secret")
check("the node's ACL is the x509 id", ("x509", CLIENT_DN) in
      [(a.id.scheme, a.id.id) for a in zk.get_acls("/x509")[0]])

other = connect("other")
try:
    other.get("/x509")
    check("x509 ACL: NOAUTH for another certificate", False)
except NoAuthError:
    check("x509 ACL: NOAUTH for another certificate", True)
other.stop()
zk.delete("/x509")
zk.stop()

check("clientAuth=need: a client without a certificate is refused", refused(None))
check("a certificate from another CA is refused", refused("rogue"))
