#!/usr/bin/env python3
"""Helpers for bench/compare_ensemble.sh, which owns the processes; this file owns no state.

  compare_ensemble.py bench IMPL WORKLOAD < J   corral-bench's --json output as result rows
  compare_ensemble.py mkpath HOST:PORT PATH     creates PATH and its parents (kazoo)
  compare_ensemble.py fsync DIR N [W]           median µs of N 4 KiB write+fdatasync in DIR,
                                                W writers at once (default 1)
  compare_ensemble.py table RESULTS.tsv         the markdown table (medians over rounds)

Result rows are tab-separated: impl, workload, client, measure, value.
"""
import json
import multiprocessing
import os
import statistics
import sys
import time

IMPLS = ("zookeeper", "corral")
# Workloads whose operations are all or partly writes: they get a bytes-written row.
WRITE_WORKLOADS = ("create", "set", "mixed", "multi", "churn")


def bench_rows(impl, workload):
    """corral-bench --json on stdin: one result, as rows of throughput, percentiles, CPU."""
    doc = json.load(sys.stdin)
    for r in doc["results"]:
        lat = r["latency_us"]
        rows = [] if workload.endswith("latency") else [("ops/s", r["ops_per_sec"])]
        rows += [("p50 µs", lat["p50"]), ("p99 µs", lat["p99"]), ("p99.9 µs", lat["p99.9"])]
        if not workload.endswith("latency") and "ops_per_server_cpu_sec" in r:
            rows.append(("ops per server CPU-s", r["ops_per_server_cpu_sec"]))
        if not workload.endswith("latency") and r["ops"]:
            # The client shares the machine: its CPU per operation bounds the servers' throughput.
            rows.append(("client CPU µs/op", 1e6 * r["client_cpu_seconds"] / r["ops"]))
        if workload in WRITE_WORKLOADS and "server_write_bytes_per_op" in r:
            # What a write costs the disks (and, on a VM, the page cache's copies).
            rows.append(("servers' bytes written per op", r["server_write_bytes_per_op"]))
        if "last_notification_p50_us" in r:  # watch: from the set to the last session told
            rows.append(("last notified, p50 µs", r["last_notification_p50_us"]))
        for measure, value in rows:
            print(f"{impl}\t{workload}\tcorral-bench\t{measure}\t{value}")
        if r["errors"]:
            print(f"{impl} {workload}: {r['errors']} errors {r['error_counts']}", file=sys.stderr)


def mkpath(hostport, path):
    from kazoo.client import KazooClient

    zk = KazooClient(hosts=hostport, timeout=30)
    zk.start(timeout=30)
    try:
        zk.ensure_path(path)
    finally:
        zk.stop()
        zk.close()


def fsync_samples(path, n, start, out):
    """Puts on `out` the µs of n 4 KiB overwrites + fdatasync of a preallocated file at path
    (as a preallocated log does), so each fdatasync flushes data, not a size change. The timed
    writes begin once every writer has preallocated its file (the barrier `start`)."""
    block = b"x" * 4096
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\0" * 4096 * n)
        os.fsync(fd)
        start.wait()
        samples = []
        for i in range(n):
            t = time.perf_counter()
            os.pwrite(fd, block, i * 4096)
            os.fdatasync(fd)
            samples.append((time.perf_counter() - t) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    out.put(samples)


def fsync_floor(directory, n, writers):
    """The disk's floor under a durable write: the median of n samples per writer, with that
    many writers (processes, each its own file) syncing at once, as an ensemble's servers
    sharing one disk each sync their own log."""
    start = multiprocessing.Barrier(writers)
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(
            target=fsync_samples,
            args=(os.path.join(directory, f"fsync-probe-{i}"), n, start, out))
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    # A writer that failed sends nothing: give up rather than wait forever.
    samples = [s for _ in procs for s in out.get(timeout=600)]
    for proc in procs:
        proc.join()
    print(f"{statistics.median(samples):.0f}")


def fmt(v):
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def table(results_path):
    """One row per (workload, client, measure) in first-seen order; each cell the median over
    the rounds; the ratio is Corral / ZooKeeper."""
    values, order = {}, []
    with open(results_path) as f:
        for line in f:
            impl, workload, client, measure, value = line.rstrip("\n").split("\t")
            key = (workload, client, measure)
            if key not in values:
                values[key] = {i: [] for i in IMPLS}
                order.append(key)
            values[key][impl].append(float(value))
    print("| workload | client | measure | ZooKeeper 3.8 | Corral | Corral / ZooKeeper |")
    print("|---|---|---|---|---|---|")
    for key in order:
        zk, corral = (values[key][i] for i in IMPLS)
        zk_v = statistics.median(zk) if zk else None
        co_v = statistics.median(corral) if corral else None
        ratio = f"{co_v / zk_v:.2f}" if zk_v and co_v is not None else "-"
        cells = [fmt(v) if v is not None else "-" for v in (zk_v, co_v)]
        print(f"| {' | '.join(key)} | {cells[0]} | {cells[1]} | {ratio} |")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "bench":
        bench_rows(argv[2], argv[3])
    elif cmd == "mkpath":
        mkpath(argv[2], argv[3])
    elif cmd == "fsync":
        fsync_floor(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 1)
    elif cmd == "table":
        table(argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
