#!/usr/bin/env python3
"""A mock of `corral-mw dashboard` for developing web/ and for the fast browser test.

Serves web/ at / and the REST API + Server-Sent Events of apps/master-worker/DESIGN.md from
in-memory state (python3 standard library only). Tasks created by POST /api/tasks go
pending -> assigned -> running -> done (failed for `fail`) over about a second, emitting the
`task` and `summary` events the real dashboard emits; finished tasks are archived into the
history a couple of seconds later, as the real dashboard archives them to SQLite.

  mock_api.py [--port 0] [--host 127.0.0.1] [--web DIR] [--demo] [--history N]

Prints "listening http://HOST:PORT/" on stdout once it accepts connections (with --port 0 the
kernel picks a free port). --demo submits a light stream of random tasks so that the page
looks alive. Test-only controls (not part of DESIGN.md's API):
  POST /_mock/drop-streams?refuse_ms=N  closes every open event stream and answers
                                        /api/events with 503 for the next N ms
  POST /_mock/worker-lost?id=W          removes worker W (its tasks are reassigned)
"""

import argparse
import json
import mimetypes
import os
import queue
import random
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("sleep", "hash", "fail", "shell")
STATES = ("pending", "assigned", "running", "done", "failed")
TASK_ID = re.compile(r"^task-\d{10}$")
MAX_BODY = 64 * 1024


def now_ms():
    return int(time.time() * 1000)


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class State:
    """Everything the mock knows; one lock guards it all."""

    def __init__(self, allow_shell=False, history=0):
        self.lock = threading.RLock()
        self.allow_shell = allow_shell
        self.seq = 0
        self.tasks = {}  # id -> task (pending/assigned/running, and finished not yet archived)
        self.history = []  # archived tasks, oldest first
        self.reassigned = 0
        self.ran_twice = 0
        self.master = "master-a1f3"
        self.backups = ["master-7c20"]
        self.master_since = now_ms() - 95_000
        self.workers = {}
        for i, slots in ((1, 2), (2, 2), (3, 3)):
            self.add_worker("worker-%d" % i, slots, quiet=True)
        self.zxid = 0x100000000 + 1200
        self.subscribers = []  # queues of open event streams
        self.refuse_streams_until = 0.0
        self.summary_dirty = False
        self.summary_sent = 0.0
        self.seed_history(history)

    # -- helpers -------------------------------------------------------------------------------

    def add_worker(self, wid, slots, quiet=False):
        self.workers[wid] = {"id": wid, "host": "node-%s.local" % wid.split("-")[-1],
                             "pid": random.randint(2000, 60000), "slots": slots,
                             "started_ms": now_ms()}
        if not quiet:
            self.emit("worker_joined", {"id": wid})

    def next_id(self):
        self.seq += 1
        return "task-%010d" % self.seq

    def seed_history(self, n):
        t = now_ms() - n * 4000 - 60_000
        for _ in range(n):
            tid = self.next_id()
            kind = random.choice(("sleep", "sleep", "hash", "fail"))
            arg = {"sleep": str(random.choice((200, 500, 800))), "hash": "1000000",
                   "fail": ""}[kind]
            worker = random.choice(sorted(self.workers))
            start = t + 150
            end = start + random.randint(150, 900)
            state = "failed" if kind == "fail" else "done"
            self.history.append({
                "id": tid, "kind": kind, "arg": arg, "state": state, "worker": worker,
                "attempts": 1, "submitted_ms": t, "started_ms": start, "finished_ms": end,
                "result": self.result_of(kind, arg),
                "runs": [{"worker": worker, "attempt": 1, "started_ms": start,
                          "finished_ms": end, "state": state}],
                "archived_ms": end + 1500})
            t += 4000

    @staticmethod
    def result_of(kind, arg):
        if kind == "sleep":
            return "slept %s ms" % arg
        if kind == "hash":
            return "%064x" % random.getrandbits(256)
        if kind == "fail":
            return "task kind fail always fails"
        return ""

    def emit(self, etype, data):
        """Queues an event for every open stream (called with the lock held)."""
        self.zxid += 1
        msg = "event: %s\ndata: %s\n\n" % (etype, json.dumps(data, separators=(",", ":")))
        for q in self.subscribers:
            q.put(msg)
        if etype != "summary":
            self.summary_dirty = True

    def public(self, t, runs=False):
        out = {k: t[k] for k in ("id", "kind", "arg", "state", "worker", "attempts",
                                  "submitted_ms", "started_ms", "finished_ms", "result")}
        if runs:
            out["runs"] = list(t["runs"])
        return out

    def summary(self):
        counts = dict.fromkeys(STATES, 0)
        for t in self.tasks.values():
            counts[t["state"]] += 1
        for t in self.history:
            counts[t["state"]] += 1
        return {"master": self.master, "backups": list(self.backups),
                "workers": len(self.workers), "tasks": counts,
                "reassigned": self.reassigned, "ran_twice": self.ran_twice}

    def load(self, wid):
        return sum(1 for t in self.tasks.values()
                   if t["worker"] == wid and t["state"] in ("assigned", "running"))

    # -- the API -------------------------------------------------------------------------------

    def submit(self, body):
        try:
            req = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "malformed JSON body")
        if not isinstance(req, dict):
            raise ApiError(400, "the body must be a JSON object")
        kind, arg = req.get("kind"), req.get("arg", "")
        if not isinstance(kind, str):
            raise ApiError(400, "\"kind\" must be a string")
        if not isinstance(arg, str):
            raise ApiError(400, "\"arg\" must be a string")
        if kind not in KINDS:
            raise ApiError(400, "unknown kind \"%s\" (sleep, hash or fail)" % kind)
        if kind == "shell" and not self.allow_shell:
            raise ApiError(400, "shell tasks are disabled (start the dashboard with --allow-shell)")
        if kind == "sleep" and not (re.fullmatch(r"\d{1,6}", arg) and int(arg) <= 600000):
            raise ApiError(400, "sleep takes milliseconds from 0 to 600000, got \"%s\"" % arg)
        if kind == "hash" and not (re.fullmatch(r"\d{1,10}", arg) and 1 <= int(arg) <= 10**9):
            raise ApiError(400, "hash takes a byte count from 1 to 1000000000, got \"%s\"" % arg)
        with self.lock:
            tid = self.next_id()
            self.tasks[tid] = {"id": tid, "kind": kind, "arg": arg, "state": "pending",
                               "worker": None, "attempts": 0, "submitted_ms": now_ms(),
                               "started_ms": None, "finished_ms": None, "result": None,
                               "runs": [], "due": time.time() + random.uniform(0.1, 0.25)}
            self.emit("task", {"id": tid, "state": "pending", "worker": None})
            return tid

    def list_tasks(self, params, source):
        state = params.get("state")
        if state is not None and state not in STATES:
            raise ApiError(400, "state must be one of " + ", ".join(STATES))
        limit = int_param(params, "limit", 100, 1, 1000)
        offset = int_param(params, "offset", 0, 0, 10**9)
        with self.lock:
            if source == "history":
                items = sorted(self.history, key=lambda t: t["id"], reverse=True)
            else:
                items = sorted(self.tasks.values(), key=lambda t: t["id"], reverse=True)
            if state:
                items = [t for t in items if t["state"] == state]
            page = [self.public(t) for t in items[offset:offset + limit]]
            return {"total": len(items), "tasks": page}

    def get_task(self, tid):
        if not TASK_ID.match(tid):
            raise ApiError(400, "a task id is task- and 10 digits")
        with self.lock:
            t = self.tasks.get(tid) or next((h for h in self.history if h["id"] == tid), None)
            if t is None:
                raise ApiError(404, "no task %s" % tid)
            return self.public(t, runs=True)

    def workers_view(self):
        with self.lock:
            out = []
            for wid in sorted(self.workers):
                w = self.workers[wid]
                mine = sorted(t["id"] for t in self.tasks.values()
                              if t["worker"] == wid and t["state"] in ("assigned", "running"))
                running = [i for i in mine if self.tasks[i]["state"] == "running"]
                out.append({"id": wid, "host": w["host"], "slots": w["slots"],
                            "running": running, "assigned": mine})
            return out

    def cluster_view(self):
        with self.lock:
            conns = len(self.workers) + 3
            return [{"server": "127.0.0.1:%d" % (2181 + i),
                     "role": "leader" if i == 1 else "follower",
                     "zxid": "0x%x" % self.zxid,
                     "connections": conns // 3 + (1 if i < conns % 3 else 0),
                     "latency_avg_ms": round(random.uniform(0.1, 0.6), 2)} for i in range(3)]

    # -- the simulated cluster ---------------------------------------------------------------

    def tick(self):
        with self.lock:
            t_now = time.time()
            for t in sorted(self.tasks.values(), key=lambda t: t["id"]):
                if t["due"] > t_now:
                    continue
                if t["state"] == "pending":
                    free = [w for w in sorted(self.workers, key=lambda w: (self.load(w), w))
                            if self.load(w) < self.workers[w]["slots"]]
                    if not free:
                        continue
                    t.update(state="assigned", worker=free[0], attempts=t["attempts"] + 1,
                             due=t_now + random.uniform(0.05, 0.15))
                elif t["state"] == "assigned":
                    t.update(state="running", started_ms=now_ms())
                    t["runs"].append({"worker": t["worker"], "attempt": t["attempts"],
                                      "started_ms": t["started_ms"], "finished_ms": 0,
                                      "state": "running"})
                    if t["kind"] == "sleep":
                        length = min(max(int(t["arg"]), 50), 5000) / 1000.0
                    elif t["kind"] == "hash":
                        length = min(0.2 + int(t["arg"]) / 2e7, 3.0)
                    else:
                        length = 0.3
                    t["due"] = t_now + length
                elif t["state"] == "running":
                    state = "failed" if t["kind"] == "fail" else "done"
                    t.update(state=state, finished_ms=now_ms(), result=self.result_of(
                        t["kind"], t["arg"]), due=t_now + 2.0)
                    t["runs"][-1].update(finished_ms=t["finished_ms"], state=state)
                    if len(t["runs"]) == 2:  # counted once, when its second run ends
                        self.ran_twice += 1
                else:  # finished: archive it, as the dashboard archives to SQLite
                    del self.tasks[t["id"]]
                    t = dict(t, archived_ms=now_ms())
                    self.history.append(t)
                    continue
                self.emit("task", {"id": t["id"], "state": t["state"], "worker": t["worker"]})
            if self.summary_dirty and t_now - self.summary_sent >= 0.5:
                self.summary_dirty = False
                self.summary_sent = t_now
                self.emit("summary", self.summary())

    def lose_worker(self, wid):
        with self.lock:
            if wid not in self.workers:
                raise ApiError(404, "no worker %s" % wid)
            del self.workers[wid]
            self.emit("worker_lost", {"id": wid})
            for t in self.tasks.values():
                if t["worker"] == wid and t["state"] in ("assigned", "running"):
                    t.update(state="pending", worker=None, due=time.time() + 0.2)
                    self.reassigned += 1
                    self.emit("task_reassigned", {"id": t["id"], "from": wid})
                    self.emit("task", {"id": t["id"], "state": "pending", "worker": None})

    def demo(self, stop):
        """A light, varied stream of tasks and, once, a worker that leaves and comes back."""
        started = time.time()
        lost = False
        while not stop.wait(random.uniform(0.15, 0.6)):
            kind = random.choices(("sleep", "hash", "fail"), (8, 3, 1))[0]
            arg = {"sleep": str(random.choice((100, 200, 400, 700, 1200))),
                   "hash": str(random.choice((1000000, 4000000, 16000000))), "fail": ""}[kind]
            self.submit(json.dumps({"kind": kind, "arg": arg}).encode())
            if not lost and time.time() - started > 20:
                lost = True
                self.lose_worker("worker-3")
                with self.lock:
                    self.add_worker("worker-3", 3)


def int_param(params, name, default, lo, hi):
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d{1,12}", raw) or not lo <= int(raw) <= hi:
        raise ApiError(400, "%s must be an integer from %d to %d" % (name, lo, hi))
    return int(raw)


class Handler(BaseHTTPRequestHandler):
    server_version = "corral-mw-mock/1"
    state = None  # set in main()
    web_dir = None
    ping_s = 15.0

    def log_message(self, fmt, *args):  # quiet unless asked
        if os.environ.get("MOCK_API_VERBOSE"):
            sys.stderr.write("mock_api: " + fmt % args + "\n")

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            if path.startswith("/_mock/"):
                return self.mock_control(method, path, params)
            if not path.startswith("/api/") and path != "/api":
                if method != "GET":
                    raise ApiError(405, "method not allowed")
                return self.static(path)
            st = self.state
            if path == "/api/tasks" and method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ApiError(413, "the body is larger than 64 KiB")
                return self.send_json(201, {"id": st.submit(self.rfile.read(length))})
            gets = {"/api/summary", "/api/master", "/api/workers", "/api/cluster",
                    "/api/tasks", "/api/history", "/api/events"}
            if path in gets or path.startswith("/api/tasks/"):
                if method != "GET":
                    raise ApiError(405, "method not allowed")
            else:
                raise ApiError(404, "no such API: %s" % path)
            if path == "/api/summary":
                with st.lock:
                    return self.send_json(200, st.summary())
            if path == "/api/master":
                with st.lock:
                    return self.send_json(200, {"active": st.master, "backups": st.backups,
                                                "since_ms": st.master_since})
            if path == "/api/workers":
                return self.send_json(200, st.workers_view())
            if path == "/api/cluster":
                return self.send_json(200, st.cluster_view())
            if path == "/api/tasks":
                return self.send_json(200, st.list_tasks(params, "tree"))
            if path == "/api/history":
                return self.send_json(200, st.list_tasks(params, "history"))
            if path.startswith("/api/tasks/"):
                return self.send_json(200, st.get_task(path[len("/api/tasks/"):]))
            return self.events()
        except ApiError as e:
            return self.send_json(e.status, {"error": e.message})
        except (BrokenPipeError, ConnectionResetError):
            return None

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def static(self, path):
        rel = urllib.parse.unquote(path).lstrip("/") or "index.html"
        full = os.path.realpath(os.path.join(self.web_dir, rel))
        if not full.startswith(self.web_dir + os.sep) or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"not found\n")
            return
        with open(full, "rb") as f:
            body = f.read()
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def events(self):
        st = self.state
        if time.time() < st.refuse_streams_until:
            raise ApiError(503, "event stream unavailable (mock)")
        q = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.flush()
        with st.lock:
            st.subscribers.append(q)
        try:
            while True:
                try:
                    msg = q.get(timeout=self.ping_s)
                except queue.Empty:
                    msg = ": ping\n\n"
                if msg is None:  # dropped by /_mock/drop-streams
                    break
                self.wfile.write(msg.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with st.lock:
                if q in st.subscribers:
                    st.subscribers.remove(q)
            self.close_connection = True

    def mock_control(self, method, path, params):
        if method != "POST":
            raise ApiError(405, "method not allowed")
        st = self.state
        if path == "/_mock/drop-streams":
            with st.lock:
                st.refuse_streams_until = time.time() + int(params.get("refuse_ms", "0")) / 1000
                for q in st.subscribers:
                    q.put(None)
            return self.send_json(200, {"dropped": True})
        if path == "/_mock/worker-lost":
            st.lose_worker(params.get("id", ""))
            return self.send_json(200, {"lost": params.get("id")})
        raise ApiError(404, "no such mock control")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--web", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "..", "web"))
    ap.add_argument("--demo", action="store_true", help="submit random tasks continuously")
    ap.add_argument("--history", type=int, default=0, help="archived tasks to start with")
    ap.add_argument("--allow-shell", action="store_true")
    ap.add_argument("--ping-s", type=float, default=15.0)
    args = ap.parse_args()

    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("text/javascript", ".mjs")
    Handler.state = State(allow_shell=args.allow_shell, history=args.history)
    Handler.web_dir = os.path.realpath(args.web)
    Handler.ping_s = args.ping_s
    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    httpd.daemon_threads = True
    stop = threading.Event()

    def ticker():
        while not stop.wait(0.05):
            Handler.state.tick()

    threading.Thread(target=ticker, daemon=True).start()
    if args.demo:
        threading.Thread(target=Handler.state.demo, args=(stop,), daemon=True).start()
    host, port = httpd.server_address[:2]
    print("listening http://%s:%d/" % (host, port), flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        httpd.server_close()


if __name__ == "__main__":
    main()
