#!/usr/bin/env python3
"""SASL DIGEST-MD5 logins through kazoo (python3-kazoo + python3-pure-sasl) against one server.

Prints a transcript, one line per step, that must be the same for Apache ZooKeeper 3.8 and
Corral; sasl_interop_test.sh runs it against both and compares. The server's JAAS file has users
bob/bobsecret, alice/alicesecret and super/adminsecret, with zookeeper.superUser=super.

    sasl_kazoo.py HOST:PORT
"""
import logging
import sys
import time

from kazoo.client import KazooClient
from kazoo.security import make_acl

logging.basicConfig(level=logging.CRITICAL)
HOSTS = sys.argv[1]
TIMEOUT = 15


def client(user=None, password=None):
    options = None
    if user is not None:
        options = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    c = KazooClient(hosts=HOSTS, sasl_options=options, timeout=10,
                    connection_retry={"max_tries": 0})
    return c


def outcome(f):
    """'ok <value>' or the name of the exception kazoo raised."""
    try:
        return "ok " + str(f())
    except Exception as e:  # the class name is what the transcript compares
        return type(e).__name__


def session(user, password):
    c = client(user, password)
    result = outcome(lambda: c.start(timeout=TIMEOUT))
    return c, result


def acl_text(acls):
    return ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls)


def main():
    bob, started = session("bob", "bobsecret")
    print("bob login:", started)
    sasl_bob = make_acl("sasl", "bob", all=True)
    print("bob create sasl:bob:", outcome(lambda: bob.create("/sasl_node", b"secret", acl=[sasl_bob])))
    print("bob get:", outcome(lambda: bob.get("/sasl_node")[0]))
    print("acl:", outcome(lambda: acl_text(bob.get_acls("/sasl_node")[0])))
    # "auth" stands for the session's authenticated ids: here the sasl one.
    auth = make_acl("auth", "", all=True)
    print("bob create auth:", outcome(lambda: bob.create("/auth_node", b"a", acl=[auth])))
    print("auth acl:", outcome(lambda: acl_text(bob.get_acls("/auth_node")[0])))
    bad = make_acl("sasl", "a@b@c", all=True)
    print("malformed sasl id:", outcome(lambda: bob.create("/bad_node", b"", acl=[bad])))

    anonymous, started = session(None, None)
    print("anonymous login:", started)
    print("anonymous get:", outcome(lambda: anonymous.get("/sasl_node")[0]))
    print("anonymous set:", outcome(lambda: anonymous.set("/sasl_node", b"x") and "set"))
    anonymous.stop()

    alice, started = session("alice", "alicesecret")
    print("alice login:", started)
    print("alice get:", outcome(lambda: alice.get("/sasl_node")[0]))
    alice.stop()

    admin, started = session("super", "adminsecret")
    print("super login:", started)
    print("super get:", outcome(lambda: admin.get("/sasl_node")[0]))
    admin.stop()

    # kazoo reports CONNECTED before its SASL exchange, so start() may return before the refusal
    # arrives, and a request made after it races kazoo's own teardown (AuthFailedError while the
    # client is AUTH_FAILED, ConnectionClosedError once it is CLOSED). What does not race: the
    # client state at the moment the session is lost, recorded by a listener on kazoo's
    # connection thread before it moves on to CLOSED.
    # An unknown user's password is one nobody has: ZooKeeper's callback handler keeps the last
    # user name it found across connections, so after bob's attempt "mallory" with bob's
    # password logs in there (as "mallory"). Corral refuses that too; the transcript only
    # holds what both do.
    for user, password in (("bob", "wrongsecret"), ("mallory", "mallorysecret")):
        c = client(user, password)
        lost_as = []
        c.add_listener(lambda state: lost_as.append(c.client_state) if state == "LOST" else None)
        outcome(lambda: c.start(timeout=TIMEOUT))
        deadline = time.monotonic() + TIMEOUT
        while c.client_state != "CLOSED" and time.monotonic() < deadline:
            time.sleep(0.01)
        who = "%s/%s" % (user, password)
        print(who, "lost as:", ",".join(lost_as) or "never lost")
        print(who, "state:", c.state)
        c.stop()
        c.close()

    print("bob delete:", outcome(lambda: bob.delete("/sasl_node") or "deleted"))
    bob.delete("/auth_node")
    bob.stop()


if __name__ == "__main__":
    main()
