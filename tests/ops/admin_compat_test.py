#!/usr/bin/env python3
"""AdminServer and metrics compatibility: the same client scenario against Apache ZooKeeper 3.8
(Debian's package; its AdminServer needs Debian's Jetty and Jackson jars on the classpath) and
against Corral, then for every AdminServer command Corral implements: the same JSON keys and
value types as ZooKeeper's (a few keys ZooKeeper derives from the JVM or from bookkeeping Corral
does not do are listed below, with why). Debian's ZooKeeper has no Prometheus provider jar, so
every ZooKeeper metric name Corral's /metrics exports is checked against ZooKeeper's monitor
command instead (a gauge or counter there under the same name, a summary as cnt_NAME, with
p99_NAME exactly when Corral exports the 0.99 quantile).

usage: admin_compat_test.py PATH/corral-server
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from kazoo.client import KazooClient

JARS = ["zookeeper", "slf4j-simple", "servlet-api", "jetty9-server", "jetty9-servlet",
        "jetty9-util", "jetty9-http", "jetty9-io", "jetty9-security", "jackson-databind",
        "jackson-core", "jackson-annotations"]
CLASSPATH = ":".join(["/etc/zookeeper/conf"] + [f"/usr/share/java/{j}.jar" for j in JARS])

# Commands compared (aliases included: each must answer under its primary name).
COMMANDS = ["ruok", "configuration", "conf", "connections", "cons", "dirs", "dump", "environment",
            "envi", "initial_configuration", "is_read_only", "last_snapshot", "leader",
            "monitor", "observers", "obsr", "server_stats", "srvr", "stats", "stat", "voting_view", "watch_summary",
            "watches", "watches_by_path", "zabstate", "no_such_command", "crst", "srst"]
# Maps keyed by session ids, paths or server ids: their keys are data, not fields.
DATA_MAPS = {"session_id_to_watched_paths", "path_to_session_ids", "expiry_time_to_session_ids",
             "session_id_to_ephemeral_paths", "current_config"}
# ZooKeeper keys Corral leaves out, and why.
LEFT_OUT = {
    # Java system properties and JVM memory: there is no JVM.
    "environment": lambda k: k.startswith("java.") or k.startswith("os.memory."),
    # Corral counts no SASL failures or non-mTLS connections separately (yet).
    "server_stats": lambda k: k in {"auth_failed_count", "non_mtlsremote_conn_count",
                                    "non_mtlslocal_conn_count"},
    # Java NIO selection-key interest set: Corral's connections have none.
    "connection": lambda k: k == "interest_ops",
}
# ZooKeeper's counters (ServerMetrics.java getCounter); its other single values are gauges.
ZK_COUNTERS = {"connection_rejected", "looking_count", "diff_count", "snap_count",
               "commit_count", "connection_request_count", "bytes_received_count",
               "unrecoverable_error_count", "proposal_count", "revalidate_count",
               "connection_drop_count", "throttled_ops", "stale_requests",
               "stale_requests_dropped", "stale_replies", "large_requests_rejected",
               "response_bytes", "watch_bytes", "insecure_admin_count"}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_cfg(d, client, admin, extra=""):
    os.makedirs(f"{d}/data")
    with open(f"{d}/zoo.cfg", "w") as f:
        f.write(f"tickTime=2000\ndataDir={d}/data\nclientPort={client}\n"
                f"clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n"
                f"admin.enableServer=true\nadmin.serverAddress=127.0.0.1\n"
                f"admin.serverPort={admin}\n{extra}")
    return f"{d}/zoo.cfg"


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_http(url, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            get(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def scenario(hostport):
    zk = KazooClient(hosts=hostport, timeout=10)
    zk.start(timeout=15)
    zk.create("/a", b"x")
    zk.create("/e", b"y", ephemeral=True)
    zk.get("/a", watch=lambda e: None)
    zk.get_children("/", watch=lambda e: None)
    zk.set("/a", b"z")
    zk.get("/a", watch=lambda e: None)
    return zk


def kind(v):
    return "null" if v is None else {bool: "bool", int: "number", float: "number", str: "string",
                                     list: "list", dict: "object"}[type(v)]


def compare(where, zk, corral, left_out=None):
    """Same keys (but those `left_out` says ZooKeeper alone has) and same value kinds."""
    if kind(zk) != kind(corral):
        fail(f"{where}: ZooKeeper has a {kind(zk)}, Corral a {kind(corral)}")
        return
    if isinstance(zk, list):
        if zk and corral:
            compare(f"{where}[0]", zk[0], corral[0], left_out)
        return
    if not isinstance(zk, dict):
        return
    name = where.rsplit(".", 1)[-1]
    if name in DATA_MAPS:
        for k, v in list(zk.items())[:1]:
            for k2, v2 in list(corral.items())[:1]:
                compare(f"{where}[*]", v, v2)
        return
    skip = left_out or (lambda k: False)
    for k in zk:
        if k not in corral and not skip(k):
            fail(f"{where}: ZooKeeper's key {k!r} is missing from Corral's answer")
    for k in corral:
        if k not in zk:
            fail(f"{where}: Corral's key {k!r} is not ZooKeeper's")
    for k in zk.keys() & corral.keys():
        sub = LEFT_OUT["connection"] if k in ("connections", "secure_connections") else None
        if k == "server_stats":
            sub = LEFT_OUT["server_stats"]
        compare(f"{where}.{k}", zk[k], corral[k], sub)


def check_metric_names(metrics_text, zk_monitor):
    families = {}
    quantiles = {}
    for line in metrics_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            families[name] = typ
        elif 'quantile="' in line:
            quantiles.setdefault(line.split("{")[0], set()).add(line.split('"')[1])
    zk_named = {n: t for n, t in families.items() if not n.startswith("corral_")}
    if len(zk_named) < 20:
        fail(f"only {len(zk_named)} ZooKeeper-named metrics: {sorted(zk_named)}")
    for name, typ in sorted(zk_named.items()):
        if typ == "summary":
            if f"cnt_{name}" not in zk_monitor:
                fail(f"summary {name}: ZooKeeper has no summary of that name")
            advanced = f"p99_{name}" in zk_monitor
            if advanced != ("0.99" in quantiles.get(name, set())):
                fail(f"summary {name}: quantiles {quantiles.get(name)} but ZooKeeper's is "
                     f"{'ADVANCED' if advanced else 'BASIC'}")
        else:
            if name not in zk_monitor:
                fail(f"{typ} {name}: ZooKeeper has no metric of that name")
            elif (typ == "counter") != (name in ZK_COUNTERS):
                fail(f"{name}: Corral says {typ}, ZooKeeper's is "
                     f"{'a counter' if name in ZK_COUNTERS else 'a gauge'}")
    print(f"{len(zk_named)} ZooKeeper-named metrics checked: {' '.join(sorted(zk_named))}")


def main():
    corral_bin = os.path.abspath(sys.argv[1])
    top = tempfile.mkdtemp(prefix="ops_admin_compat.")
    procs = []
    try:
        zk_port, zk_admin = free_port(), free_port()
        cfg = write_cfg(f"{top}/zk", zk_port, zk_admin)
        zk_log = open(f"{top}/zk/server.log", "w")
        procs.append(subprocess.Popen(
            ["java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", CLASSPATH,
             "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
            stdout=zk_log, stderr=subprocess.STDOUT, cwd=f"{top}/zk"))
        c_port, c_admin, c_metrics = free_port(), free_port(), free_port()
        cfg = write_cfg(f"{top}/corral", c_port, c_admin,
                        "metricsProvider.className=org.apache.zookeeper.metrics.prometheus."
                        f"PrometheusMetricsProvider\nmetricsProvider.httpHost=127.0.0.1\n"
                        f"metricsProvider.httpPort={c_metrics}\n")
        c_log = open(f"{top}/corral/server.log", "w")
        procs.append(subprocess.Popen([corral_bin, cfg], stdout=c_log, stderr=subprocess.STDOUT,
                                      cwd=f"{top}/corral"))
        zk_url, c_url = f"http://127.0.0.1:{zk_admin}", f"http://127.0.0.1:{c_admin}"
        wait_http(f"{zk_url}/commands/ruok", procs[0])
        wait_http(f"{c_url}/commands/ruok", procs[1])
        clients = [scenario(f"127.0.0.1:{zk_port}"), scenario(f"127.0.0.1:{c_port}")]
        for cmd in COMMANDS:
            (zs, zb), (cs, cb) = get(f"{zk_url}/commands/{cmd}"), get(f"{c_url}/commands/{cmd}")
            if zs != cs:
                fail(f"{cmd}: HTTP {zs} from ZooKeeper, {cs} from Corral")
            zj, cj = json.loads(zb), json.loads(cb)
            if zj.get("command") != cj.get("command"):
                fail(f"{cmd}: answered as {zj.get('command')!r} by ZooKeeper, "
                     f"{cj.get('command')!r} by Corral")
            if cmd == "monitor":  # ZooKeeper's has hundreds of metrics; Corral's are a subset
                for k, v in cj.items():
                    if k not in zj:
                        fail(f"monitor: Corral's key {k!r} is not ZooKeeper's")
                    elif kind(v) != kind(zj[k]):
                        fail(f"monitor.{k}: ZooKeeper has a {kind(zj[k])}, Corral a {kind(v)}")
                zk_monitor = zj
                continue
            compare(cmd, zj, cj, LEFT_OUT.get(zj.get("command")))
        status, text = get(f"http://127.0.0.1:{c_metrics}/metrics")
        if status != 200:
            fail(f"/metrics answered {status}")
        check_metric_names(text, zk_monitor)
        for c in clients:
            c.stop()
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        if failures:
            print(f"logs kept in {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)
    print(f"{len(COMMANDS)} commands compared, {len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
