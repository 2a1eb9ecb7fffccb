#!/usr/bin/env python3
"""Ports claimed across processes, the protocol of tests/e2e/port_claims.cc.

Tests, scripts and benchmarks that run at once pick listen ports from the same range below the
kernel's ephemeral ports. A port nothing holds yet (a follower's unbound quorum port, a killed
member's port before its restart) is free to every picker, so two ensembles could share one and
a member join the wrong ensemble. A claim is a file named after the port in
$TMPDIR/corral-port-claims holding its owner's pid and start time, written under an flock of the
directory's .lock; a claim whose owner is gone is taken over.

  port_claims.py pick N --owner PID   claims N free ports below the ephemeral range for PID
                                      (a script passes its $$) and prints them
"""
import argparse
import fcntl
import os
import random
import socket
import sys


def claims_dir():
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", "corral-port-claims")


def start_time(pid):
    """Field 22 of /proc/PID/stat (a reused pid has another); None if no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


def owner_alive(claim):
    parts = claim.split()
    if len(parts) != 2 or not parts[0].isdigit():
        return False
    return start_time(int(parts[0])) == parts[1]


def claim(port, owner):
    """Claims PORT for process OWNER; False if a live process holds it."""
    directory = claims_dir()
    os.makedirs(directory, exist_ok=True)
    try:
        os.chmod(directory, 0o1777)
    except OSError:
        pass
    lock_fd = os.open(os.path.join(directory, ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    with os.fdopen(lock_fd, "r+") as lock:
        try:
            os.fchmod(lock_fd, 0o666)  # every user's pickers share it
        except OSError:
            pass
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = os.path.join(directory, str(port))
        try:
            with open(path) as f:
                if owner_alive(f.read()):
                    return False
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(fd, "w") as f:
            try:
                os.fchmod(fd, 0o666)  # another user's picker may take it over later
            except OSError:
                pass
            f.write(f"{owner} {start_time(owner)}\n")
        return True


def bindable(port, hosts=("127.0.0.1",)):
    """True if nothing holds PORT on any of HOSTS now."""
    for host in hosts:
        s = socket.socket()
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def ephemeral_low():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        return int(f.read().split()[0])


def pick(n, owner):
    """N distinct ports below the ephemeral range that nothing holds, claimed for OWNER."""
    low = ephemeral_low()
    if low - 10000 < 10 * n:
        raise SystemExit(f"port_claims: no room below the ephemeral ports ({low}) for {n} ports")
    picked = set()
    for _ in range(100 * n + 1000):
        port = random.randrange(10000, low)
        if port not in picked and bindable(port) and claim(port, owner):
            picked.add(port)
            if len(picked) == n:
                return sorted(picked)
    raise SystemExit(f"port_claims: found {len(picked)} of {n} free ports")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pick", help="claim N free ports for OWNER and print them")
    p.add_argument("n", type=int)
    p.add_argument("--owner", type=int, required=True, help="the claiming process (a script's $$)")
    args = parser.parse_args(argv[1:])
    if start_time(args.owner) is None:
        parser.error(f"--owner {args.owner}: no such process")
    print(" ".join(map(str, pick(args.n, args.owner))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
