#!/usr/bin/env python3
"""Proves that a Corral Mutex and kazoo's Lock (python3-kazoo, with
extra_lock_patterns=["-lock-"]) on one path exclude each other, against a 3-server ensemble of
corral-server or Apache ZooKeeper 3.8 (--impl).

  1. Corral holds: kazoo's acquire(timeout=0.3) and acquire(blocking=False) fail; a blocking
     kazoo acquire queues behind Corral's node and gets the lock once Corral releases it.
  2. kazoo holds: Corral's try_acquire and a 300 ms acquire fail with ZOPERATIONTIMEOUT; a
     blocking Corral acquire queues behind kazoo's node and gets the lock once kazoo releases.
  3. Contention from both sides: several kazoo clients (threads, one session each) and several
     interop_lock_worker processes (Corral) take the lock many times at once, each writing
     "enter <who> <fencing token>" and "leave <who>" around its critical section to one
     ledger. The ledger must show one holder at a time, fencing tokens (the lock node's czxid)
     strictly increasing, every contender granted its every round, handoffs between kazoo and
     Corral; and no lock node may be left behind. They first queue one by one, alternating
     sides, behind a Corral holder: the first grants must follow that queue (each side orders
     the other's nodes by sequence number, as its own: the lock is fair across both).

As a control (so that the test cannot pass vacuously), a kazoo Lock *without* the extra
pattern ignores Corral's `_c_<id>-lock-<seq>` nodes and does get the lock while Corral holds it.

interop_lock_worker (interop_lock_worker.cc) starts the ensemble and plays the Corral side.
Usage: kazoo_interop_test.py --impl corral|zookeeper --worker PATH [--kazoo N] [--corral N]
       [--rounds N]
"""

import argparse
import collections
import functools
import logging
import os
import queue
import random
import subprocess
import sys
import threading
import time

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import LockTimeout, NoNodeError
except ImportError:
    print("kazoo_interop_test: python3-kazoo is not installed for %s "
          "(scripts/install-deps.sh installs it)" % sys.executable, file=sys.stderr)
    sys.exit(1)

LOCK_PATH = "/interop/lock"
EXTRA_PATTERNS = ["-lock-"]  # Curator's (and so Corral's) lock node marker
HOLD_MS = 3  # each critical section's length: long enough for an overlap to show
WAIT = 30.0  # the limit of any single wait (start-up, acquire, exit)


class Failure(Exception):
    """A check that did not hold; the message says which."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def wait_until(condition, what, timeout=WAIT):
    """Polls `condition` every 10 ms until it is true; Failure after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise Failure("timed out waiting for " + what)
        time.sleep(0.01)


class Proc:
    """A child process driven by lines: its stdout is read into a queue by a thread, its
    stderr goes to ours (so its errors show in the test's output)."""

    def __init__(self, name, argv):
        self.name = name
        self.popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # end of output

    def expect(self, prefix, timeout=WAIT):
        """The next stdout line (which must start with `prefix`)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise Failure("%s: no '%s' line within %.0f s" % (self.name, prefix, timeout))
        if line is None:
            raise Failure("%s exited (status %s) instead of saying '%s'"
                          % (self.name, self.popen.wait(), prefix))
        check(line.startswith(prefix), "%s said '%s', expected '%s'" % (self.name, line, prefix))
        return line

    def has_output(self):
        return not self.lines.empty()

    def send(self, line):
        self.popen.stdin.write(line + "\n")
        self.popen.stdin.flush()

    def close_stdin(self):
        try:
            self.popen.stdin.close()
        except OSError:
            pass  # it is gone already

    def finish(self, timeout=WAIT):
        """Waits for a clean exit (status 0)."""
        self.close_stdin()
        try:
            status = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("%s did not exit within %.0f s" % (self.name, timeout))
        check(status == 0, "%s exited with status %d" % (self.name, status))

    def stop(self):
        """Ends it however it is (cleanup): stdin closed, then SIGKILL if still there."""
        self.close_stdin()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


class Test:
    def __init__(self, args):
        self.args = args
        self.procs = []
        self.clients = []
        self.hosts = None
        self.zk = None

    # --- helpers --------------------------------------------------------------------------

    def spawn(self, name, *argv):
        p = Proc(name, [self.args.worker] + list(argv))
        self.procs.append(p)
        return p

    def corral(self, mode, who, *extra):
        return self.spawn("corral %s (%s)" % (mode, who), mode, "--hosts", self.hosts,
                          "--path", LOCK_PATH, "--who", who, *extra)

    def corral_try(self, timeout_ms):
        """A Corral acquire with a timeout: 'busy' or 'acquired <token> <node>'."""
        p = self.corral("try", "corral-try", "--timeout-ms", str(timeout_ms))
        line = p.expect("")
        p.finish()
        return line

    def kazoo_client(self):
        zk = KazooClient(hosts=self.hosts, timeout=10.0)
        self.clients.append(zk)
        zk.start(timeout=WAIT)
        return zk

    def kazoo_lock(self, zk, who, patterns=EXTRA_PATTERNS):
        return zk.Lock(LOCK_PATH, who, extra_lock_patterns=patterns)

    def children(self):
        try:
            return sorted(self.zk.get_children(LOCK_PATH))
        except NoNodeError:
            return []

    @staticmethod
    def kazoo_try(lock, **kwargs):
        """kazoo's acquire, False when it timed out (kazoo raises LockTimeout then)."""
        try:
            return lock.acquire(**kwargs)
        except LockTimeout:
            return False

    # --- the run --------------------------------------------------------------------------

    def run(self):
        started = time.monotonic()
        ensemble = self.spawn("ensemble", "ensemble", "--impl", self.args.impl)
        self.hosts, self.dir = ensemble.expect("hosts ", timeout=120).split()[1:3]
        print("%s ensemble up in %.1f s: %s"
              % (self.args.impl, time.monotonic() - started, self.hosts), flush=True)
        self.zk = self.kazoo_client()
        # Persistent, made up front: Corral makes missing parents as containers, which the
        # server may remove whenever the lock is free, and kazoo creates its parent only once.
        self.zk.ensure_path(LOCK_PATH)

        self.corral_holds()
        self.kazoo_holds()
        summary = self.contention()
        print("kazoo interop (%s ensemble): %s; exclusion shown each way; done in %.1f s"
              % (self.args.impl, summary, time.monotonic() - started), flush=True)

    def corral_holds(self):
        """Corral holds the lock: kazoo cannot take it, and queues behind Corral's node."""
        holder = self.corral("hold", "corral-holder")
        token, node = holder.expect("held ").split()[1:3]
        name = node.rsplit("/", 1)[1]
        check(self.children() == [name], "lock nodes while Corral holds: %s" % self.children())

        probe = self.kazoo_lock(self.zk, "kazoo-probe")
        check(not self.kazoo_try(probe, timeout=0.3),
              "kazoo acquired (timeout=0.3) while Corral held %s" % node)
        check(not self.kazoo_try(probe, blocking=False),
              "kazoo acquired (blocking=False) while Corral held %s" % node)
        check(self.children() == [name],
              "kazoo left a node after failing to acquire: %s" % self.children())

        # The control: without the pattern kazoo sees no contender, so it takes the lock.
        blind = self.kazoo_lock(self.zk, "kazoo-blind", patterns=())
        check(self.kazoo_try(blind, timeout=5),
              "control failed: kazoo without extra_lock_patterns did not ignore %s" % name)
        blind.release()

        # A blocking kazoo acquire queues behind Corral's node and gets the lock once it goes.
        waiter_zk = self.kazoo_client()
        waiter = self.kazoo_lock(waiter_zk, "kazoo-waiter")
        outcome = {}

        def wait_for_lock():
            try:
                outcome["got"] = waiter.acquire(timeout=WAIT)
                # Corral's node is removed only by its release: it must be gone by now.
                outcome["holder_node_left"] = waiter_zk.exists(node) is not None
            except Exception as e:  # reported by the main thread
                outcome["error"] = repr(e)

        t = threading.Thread(target=wait_for_lock, daemon=True)
        t.start()
        wait_until(lambda: len(self.children()) == 2, "kazoo to queue behind Corral's node")
        check(t.is_alive(), "kazoo stopped waiting while Corral held the lock: %s" % outcome)
        holder.finish()  # releases; says "released" first
        t.join(WAIT)
        check(not t.is_alive(), "kazoo did not get the lock after Corral released it")
        check(outcome.get("got") is True and not outcome.get("holder_node_left"),
              "kazoo after Corral's release: %s" % outcome)
        print("corral held %s (token %s): kazoo acquire(timeout=0.3) failed, a waiting kazoo "
              "got it after the release" % (name, token), flush=True)
        self.kazoo_holder = waiter

    def kazoo_holds(self):
        """kazoo holds the lock: Corral cannot take it, and queues behind kazoo's node."""
        holder = self.kazoo_holder
        check(holder.is_acquired, "kazoo does not hold the lock")
        name = holder.node
        check(self.children() == [name], "lock nodes while kazoo holds: %s" % self.children())
        for timeout_ms in (0, 300):
            line = self.corral_try(timeout_ms)
            check(line == "busy", "Corral acquire (timeout %d ms) while kazoo held %s: %s"
                  % (timeout_ms, name, line))
        check(self.children() == [name],
              "Corral left a node after failing to acquire: %s" % self.children())

        waiter = self.corral("hold", "corral-waiter")
        wait_until(lambda: len(self.children()) == 2, "Corral to queue behind kazoo's node")
        check(not waiter.has_output(), "Corral got the lock while kazoo held it")
        holder.release()
        line = waiter.expect("held ")
        waiter.finish()
        check(self.children() == [], "lock nodes left: %s" % self.children())
        print("kazoo held %s: Corral try_acquire and a 300 ms acquire gave ZOPERATIONTIMEOUT, "
              "a waiting Corral got it after the release (%s)" % (name, line), flush=True)

    def contention(self):
        """Both sides at once on one path; the ledger shows one holder at a time."""
        rounds, n_kazoo, n_corral = self.args.rounds, self.args.kazoo, self.args.corral
        # In the ensemble's directory, which goes with the ensemble even if this test is killed.
        ledger = os.path.join(self.dir, "ledger")
        open(ledger, "x").close()
        workers = [self.corral("lock", "corral-%d" % i, "--rounds", str(rounds), "--ledger",
                               ledger, "--hold-ms", str(HOLD_MS)) for i in range(n_corral)]
        go = [threading.Event() for _ in range(n_kazoo)]
        ready = threading.Semaphore(0)
        errors = []

        def kazoo_contender(i):
            who = "kazoo-%d" % i
            try:
                zk = self.kazoo_client()
                lock = self.kazoo_lock(zk, who)
                fd = os.open(ledger, os.O_WRONLY | os.O_APPEND)
                ready.release()
                go[i].wait()
                for _ in range(rounds):
                    if not lock.acquire(timeout=WAIT):
                        raise Failure("%s: acquire failed" % who)
                    token = zk.exists(LOCK_PATH + "/" + lock.node).czxid
                    os.write(fd, ("enter %s %d\n" % (who, token)).encode())
                    time.sleep(HOLD_MS / 1000.0)  # the critical section
                    os.write(fd, ("leave %s\n" % who).encode())
                    lock.release()
                    # A random pause before queueing again (as the Corral workers do), so
                    # that the queue's order changes as the run goes.
                    time.sleep(random.uniform(0, HOLD_MS / 1000.0))
                os.close(fd)
            except Exception as e:  # reported by the main thread
                errors.append("%s: %r" % (who, e))
                ready.release()

        threads = [threading.Thread(target=kazoo_contender, args=(i,), daemon=True)
                   for i in range(n_kazoo)]
        for t in threads:
            t.start()
        for w in workers:
            w.expect("ready")
        for _ in threads:
            check(ready.acquire(timeout=WAIT), "a kazoo client did not connect")
        check(not errors, "kazoo: %s" % errors)
        # A Corral gate holds the lock while the contenders queue one by one, the sides
        # alternating; then all of them go. The first grants must follow that queue: each side
        # orders the other's nodes by their sequence numbers, as its own.
        gate = self.corral("hold", "corral-gate")
        gate.expect("held ")
        starts = []
        for i in range(max(n_kazoo, n_corral)):
            if i < n_corral:
                starts.append(("corral-%d" % i, functools.partial(workers[i].send, "go")))
            if i < n_kazoo:
                starts.append(("kazoo-%d" % i, go[i].set))
        queued = []
        for who, start in starts:
            start()
            queued.append(who)
            wait_until(lambda: len(self.children()) == 1 + len(queued),
                       "%s to queue behind the gate" % who)
        started = time.monotonic()
        gate.finish()
        deadline = time.monotonic() + 60
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
            check(not t.is_alive(), "a kazoo contender is still running after 60 s")
        check(not errors, "kazoo: %s" % errors)
        for w in workers:
            w.expect("done", max(0.0, deadline - time.monotonic()))
            w.finish()
        elapsed = time.monotonic() - started
        with open(ledger) as f:
            lines = f.read().splitlines()

        grants, handoffs = check_ledger(lines)
        first = [line.split()[1] for line in lines if line.startswith("enter")][:len(queued)]
        check(first == queued, "the first grants did not follow the queue:\n  queued  %s\n  "
              "granted %s" % (" ".join(queued), " ".join(first)))
        expected = ["kazoo-%d" % i for i in range(n_kazoo)] + \
                   ["corral-%d" % i for i in range(n_corral)]
        for who in expected:
            check(grants[who] == rounds,
                  "%s was granted the lock %d times, not %d" % (who, grants[who], rounds))
        check(sorted(grants) == sorted(expected), "unexpected holders: %s" % sorted(grants))
        check(handoffs > 0, "the lock never passed between kazoo and Corral")
        check(self.children() == [], "lock nodes left after the run: %s" % self.children())
        return ("%d kazoo clients and %d corral workers, %d grants in %.1f s, no overlap, fencing "
                "tokens increasing, first %d grants in queue order, %d handoffs between kazoo "
                "and corral, no node left"
                % (n_kazoo, n_corral, sum(grants.values()), elapsed, len(queued), handoffs))

    def cleanup(self, failed):
        for zk in self.clients:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass
        for p in reversed(self.procs):
            if p.name == "ensemble" and failed and p.popen.poll() is None:
                try:
                    p.send("describe")  # the members' state and logs, on stderr
                except OSError:
                    pass
            p.stop()


def check_ledger(lines):
    """One holder at a time (enter/leave alternate, by the same holder), fencing tokens
    strictly increasing. Returns the grants per holder and how often the lock passed between
    kazoo and Corral."""
    holder, last_token, last_side = None, -1, None
    grants = collections.Counter()
    handoffs = 0
    for n, line in enumerate(lines):
        context = "\n  ".join(lines[max(0, n - 4):n + 3])
        parts = line.split()
        if parts[0] == "enter" and len(parts) == 3:
            check(holder is None, "overlap at ledger line %d: %s entered while %s held it:\n  %s"
                  % (n + 1, parts[1], holder, context))
            holder, token = parts[1], int(parts[2])
            check(token > last_token, "fencing token went back at ledger line %d:\n  %s"
                  % (n + 1, context))
            last_token = token
            grants[holder] += 1
            side = holder.split("-")[0]
            handoffs += last_side is not None and side != last_side
            last_side = side
        elif parts[0] == "leave" and len(parts) == 2:
            check(holder == parts[1], "ledger line %d: %s left while %s held it:\n  %s"
                  % (n + 1, parts[1], holder, context))
            holder = None
        else:
            raise Failure("bad ledger line %d: %r" % (n + 1, line))
    check(holder is None, "the ledger ends with %s holding the lock" % holder)
    return grants, handoffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["corral", "zookeeper"], required=True)
    parser.add_argument("--worker", required=True, help="interop_lock_worker's path")
    parser.add_argument("--kazoo", type=int, default=8, help="kazoo contenders")
    parser.add_argument("--corral", type=int, default=8, help="Corral contenders")
    parser.add_argument("--rounds", type=int, default=20, help="grants per contender")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # kazoo's own warnings, if any

    test = Test(args)
    failed = True
    try:
        test.run()
        failed = False
    except Failure as e:
        print("FAILED: kazoo interop (%s ensemble): %s" % (args.impl, e), file=sys.stderr)
    finally:
        test.cleanup(failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
