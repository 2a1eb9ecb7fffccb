#!/usr/bin/env python3
"""Writes the seed corpora of peer_fuzzer, config_fuzzer and recovery_fuzzer into
tests/fuzz/corpus/<fuzzer>/ (make_corpus.py writes frame_fuzzer's). The input formats are
described at the top of each fuzzer's source. Run it again after changing a format; commit
the output.
"""

import os
import struct
import sys

# ---------------------------------------------------------------- peer_fuzzer

TICK, RAW, NOTIFY, MESSAGE, LOGGED, DISCONNECTED, PROPOSE, DURABLE = range(8)
FOLLOWERINFO, LEADERINFO, ACKEPOCH, SYNC, NEWLEADER, ACKNEWLEADER, UPTODATE = range(7)
PROPOSAL, ACK, COMMIT, INFORM, PING = 7, 8, 9, 10, 11
DIFF, TRUNC, SNAP = 0, 1, 2
LOOKING, FOLLOWING, LEADING = 0, 1, 2
# zxid_near picks: the peer's last appended, last committed, acceptedEpoch<<32, next epoch<<32.
APPENDED, COMMITTED, EPOCH, NEXT_EPOCH = range(4)


def op(kind, param=0):
    return bytes([kind | (param << 3)])


def sbyte(v):
    return struct.pack(">b", v)


def tick(step):
    """Advances the clock by kClockSteps[step] (0..7)."""
    return op(TICK, step)


def notify(pick, state, leader, zxid_delta=0, epoch_delta=0, round_delta=0, abstaining=False):
    """A notification from member pick: vote for `leader` (1..4) with the peer's last zxid
    moved by zxid_delta, its current epoch moved by epoch_delta (-1..2), in its round moved
    by round_delta (-1..2), from a member that abstains or not."""
    a = state | (leader - 1) << 2 | APPENDED << 4 | (epoch_delta + 1) << 6
    return (op(NOTIFY, pick) + bytes([a]) + sbyte(zxid_delta)
            + bytes([round_delta + 1 | int(abstaining) << 2]))


def message(pick, type_, epoch_delta=0, zxid=(APPENDED, 0), trunc=(APPENDED, 0),
            committed=(APPENDED, 0), observer=False, mode=DIFF, snapshot=None, txns=(0, EPOCH, 1)):
    """A ZAB message from member pick. Epoch: acceptedEpoch + epoch_delta (-1..2); zxids as
    (pick, delta); txns as (count 0..3, pick, delta of the first)."""
    a = type_ | int(observer) << 4 | mode << 5 | (0x80 if snapshot else 0)
    b = (epoch_delta + 1) | zxid[0] << 2 | trunc[0] << 4 | committed[0] << 6
    out = op(MESSAGE, pick) + bytes([a, b]) + sbyte(zxid[1]) + sbyte(trunc[1]) + sbyte(committed[1])
    if snapshot:
        out += bytes([snapshot[0]]) + sbyte(snapshot[1])
    return out + bytes([txns[0] | txns[1] << 2]) + sbyte(txns[2])


def raw(pick, body):
    return op(RAW, pick) + struct.pack(">H", len(body)) + body


def varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        if v < 0x80:
            return out + bytes([v])
        out += bytes([v & 0x7F | 0x80])
        v >>= 7


def field(number, value):
    """One protobuf field: an int as a varint, bytes length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def peer_seeds():
    # Server 1 (voter) with 2 and 3 voting for 3: it follows 3 through DIFF and broadcast.
    from3 = 1  # other(1) -> server 2; other(2) -> server 3 (for server 1 and server 4)
    follow = b"".join([
        b"\x00",
        notify(1, LOOKING, 3, zxid_delta=5), notify(2, LOOKING, 3, zxid_delta=5),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, committed=(EPOCH, 2), txns=(2, EPOCH, 1)),
        message(2, NEWLEADER, epoch_delta=0),
        op(DURABLE),
        message(2, UPTODATE),
        message(2, PROPOSAL, txns=(1, EPOCH, 3)),
        op(DURABLE),
        message(2, COMMIT, zxid=(APPENDED, 0)),
        message(2, PING), tick(5), tick(7),
    ])
    # Server 1 with 3 logged txns, elected by 2 and 3: discovery, sync, broadcast, then it
    # loses its quorum.
    lead = b"".join([
        bytes([3 << 4 | 1 << 1]),
        notify(1, LOOKING, 1), notify(2, LOOKING, 1),
        message(1, FOLLOWERINFO),
        message(1, ACKEPOCH, epoch_delta=-1),
        op(DURABLE),
        message(1, ACKNEWLEADER),
        op(PROPOSE) + b"\x01", op(PROPOSE) + b"\x02", op(DURABLE),
        message(1, ACK, zxid=(APPENDED, 0)),
        message(2, FOLLOWERINFO, zxid=(COMMITTED, -1)),
        message(3, FOLLOWERINFO, observer=True),
        message(3, ACKEPOCH, epoch_delta=-1), message(3, ACKNEWLEADER),
        message(2, ACKEPOCH, epoch_delta=-1), message(2, ACKNEWLEADER),
        tick(4), op(DISCONNECTED, 1), tick(6),
    ])
    # Server 4 (observer) joins leader 3, which sends a SNAP, then INFORMs.
    observe = b"".join([
        b"\x01",
        notify(1, FOLLOWING, 3), notify(2, LEADING, 3),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, mode=SNAP, snapshot=(EPOCH, 1), committed=(EPOCH, 1),
                txns=(1, EPOCH, 2)),
        message(2, NEWLEADER), op(DURABLE), message(2, UPTODATE),
        message(2, INFORM, txns=(1, EPOCH, 3)), op(LOGGED), tick(7),
    ])
    # Following, then a TRUNC, and raw frames: a SNAP without its snapshot, a notification,
    # a relay, garbage.
    snap_msg = field(2, field(1, SYNC) + field(7, SNAP))
    note = field(1, field(1, 2) + field(3, field(1, 3) + field(2, 5)) + field(4, 1))
    relay = field(3, field(1, 1) + field(10, varint(7) + varint(8)))
    hostile = b"".join([
        b"\x06",
        notify(1, LOOKING, 3, zxid_delta=5), notify(2, LOOKING, 3, zxid_delta=5),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, mode=TRUNC, trunc=(APPENDED, -2), txns=(3, APPENDED, -1)),
        raw(2, note), raw(2, relay), raw(2, snap_msg), raw(1, b"\x12\x02\x08\x0b"),
        raw(2, b"\xff\x00garbage"),
    ])
    # Issue 11. Following, a committed txn does not fit the driver's tree (DISCONNECTED with
    # the high bit: Peer::diverged): the peer abstains, so votes for it do not make it lead;
    # it follows the leader the others follow asking for a SNAP, refuses a TRUNC, and the SNAP
    # makes it a voter again; then an abstaining member's votes count for nothing.
    diverged = b"".join([
        b"\x00",
        notify(1, LOOKING, 3, zxid_delta=5), notify(2, LOOKING, 3, zxid_delta=5),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, committed=(EPOCH, 2), txns=(2, EPOCH, 1)),
        message(2, NEWLEADER), op(DURABLE), message(2, UPTODATE),
        op(DISCONNECTED, 16),
        notify(1, LOOKING, 1, zxid_delta=5), notify(2, LOOKING, 1, zxid_delta=5), tick(3),
        notify(1, FOLLOWING, 3), notify(2, LEADING, 3),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, mode=TRUNC, trunc=(APPENDED, 3), txns=(1, APPENDED, 1)),
        notify(1, FOLLOWING, 3), notify(2, LEADING, 3),
        message(2, LEADERINFO),
        message(2, SYNC, mode=SNAP, snapshot=(EPOCH, 2), committed=(EPOCH, 2)),
        message(2, NEWLEADER), op(DURABLE), message(2, UPTODATE),
        op(DISCONNECTED, 2), notify(1, LOOKING, 3, abstaining=True),
        notify(2, LOOKING, 1, zxid_delta=-1), tick(3), tick(7),
    ])
    # Restarted while abstaining (setup bit 7): both others vote for it, then it joins 3.
    restart_abstaining = b"".join([
        b"\x80",
        notify(1, LOOKING, 1, zxid_delta=5), notify(2, LOOKING, 1, zxid_delta=5), tick(3),
        notify(1, FOLLOWING, 3), notify(2, LEADING, 3),
        message(2, LEADERINFO, epoch_delta=1),
        message(2, SYNC, mode=SNAP, snapshot=(EPOCH, 0), committed=(EPOCH, 0)),
        message(2, NEWLEADER), op(DURABLE), message(2, UPTODATE), tick(7),
    ])
    # Leading (as in "lead"), a follower asks for a SNAP in its FOLLOWERINFO (field 12).
    wants_snap = field(2, field(1, FOLLOWERINFO) + field(4, 1) + field(5, 1 << 32 | 3)
                       + field(12, 1))
    lead_snap = b"".join([
        bytes([3 << 4 | 1 << 1]),
        notify(1, LOOKING, 1), notify(2, LOOKING, 1),
        raw(1, wants_snap), message(2, FOLLOWERINFO),
        message(1, ACKEPOCH, epoch_delta=-1), message(2, ACKEPOCH, epoch_delta=-1),
        op(DURABLE), message(1, ACKNEWLEADER), message(2, ACKNEWLEADER), tick(4),
    ])
    return {"follow": follow, "lead": lead, "observe": observe, "hostile": hostile,
            "regress-diverged-resync": diverged, "regress-restart-abstaining": restart_abstaining, "regress-learner-wants-snapshot": lead_snap}


# ---------------------------------------------------------------- config_fuzzer

def config_seeds():
    return {
        "standalone": b"tickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort=2181\n",
        "ensemble": b"""# a three-server ensemble with an observer
tickTime=2000
initLimit=10
syncLimit=5
dataDir=/data
dataLogDir=/datalog
clientPort=2181
clientPortAddress=127.0.0.1
server.1=10.0.0.1:2888:3888
server.2=10.0.0.2:2888:3888:participant;2181
server.3=[::1]:2888:3888;127.0.0.1:2181
server.4=host4:2888:3888:observer
peerType=participant
""",
        "everything": b"""tickTime=0x7d0
dataDir = /d
maxClientCnxns=0
minSessionTimeout=-1
maxSessionTimeout=40000
4lw.commands.whitelist=srvr, stat ,mntr,*
jute.maxbuffer=1048575
znode.container.checkIntervalMs=1000
extendedTypesEnabled=true
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
forceSync=no
snapCount=1000
autopurge.snapRetainCount=1
autopurge.purgeInterval=24
readonlymode.enabled=true
unknown.key=kept
! a comment
""",
        "errors": b"tickTime=abc\ndataDir=/d\nserver.x=a:1:2\nserver.1=a|b:1:2\n",
    }


# ---------------------------------------------------------------- recovery_fuzzer

TXN_LOG, SNAPSHOTS, CHUNK_STORE, SNAPSHOT_SESSIONS, META, CHUNK_REFS = range(6)
DELETE, ADD, SET_INT, SET_BYTES, FLIP = range(5)
END = b"\xff"


def edit(table, what, row, column=0, operand=b""):
    """An SQL edit of the row-th row (0..31) of a table (see recovery_fuzzer.cc)."""
    return bytes([table + 6 * what, column << 5 | row]) + operand


def snapshot_chunk(*paths):
    """A chunk_store.nodes value (pb.SnapshotChunk) of these paths, each with an empty
    Node record (which decodes as a node of default fields)."""
    out = b""
    for path in paths:
        entry = b"\x0a" + bytes([len(path)]) + path + b"\x12\x00"
        out += b"\x0a" + bytes([len(entry)]) + entry
    return out


def chunk_bytes(*paths):
    """The operand that sets a chunk's nodes to these paths."""
    chunk = snapshot_chunk(*paths)
    return struct.pack(">H", len(chunk)) + chunk


def damage(offset, value):
    return struct.pack(">I", offset)[1:] + bytes([value])


def truncate(size):
    return b"\xff\xff\xff" + struct.pack(">I", size)[1:]


def recovery_seeds():
    return {
        "intact": END,
        "log_row_deleted": edit(TXN_LOG, DELETE, 5) + END,
        "log_zxid_moved": edit(TXN_LOG, ADD, 12, 0, sbyte(1)) + END,
        "log_record_flipped": edit(TXN_LOG, FLIP, 4, 3, b"\x02\x00\x05\x40\x00\x09\x01") + END,
        "log_record_replaced": edit(TXN_LOG, SET_BYTES, 13, 3,
                                    struct.pack(">H", 6) + b"\x18\x01\x28\x02\x32\x00") + END,
        "snapshot_count": edit(SNAPSHOTS, ADD, 0, 3, sbyte(1)) + END,
        # A count no file holds: loading must not make room for it first.
        "snapshot_count_huge": edit(SNAPSHOTS, SET_INT, 0, 3, struct.pack(">q", 1 << 58)) + END,
        "snapshot_end": edit(SNAPSHOTS, SET_INT, 0, 2, struct.pack(">q", (1 << 32) + 99)) + END,
        "snapshot_incomplete": edit(SNAPSHOTS, SET_INT, 0, 4, struct.pack(">q", 0)) + END,
        # The largest zxid there is: comparing the log's start with it + 1 overflowed.
        "regress-snapshot-zxid-max": edit(SNAPSHOTS, SET_INT, 0, 1,
                                          struct.pack(">q", (1 << 63) - 1)) + END,
        # The snapshot's chunks hold 4 nodes each (recovery_fuzzer.cc); column 2 is `nodes`.
        "node_path": edit(CHUNK_STORE, SET_BYTES, 1, 2, chunk_bytes(b"/a/b")) + END,
        "node_deleted": edit(CHUNK_STORE, DELETE, 2) + END,
        "node_record": edit(CHUNK_STORE, FLIP, 1, 2, b"\x01\x00\x1c\x80") + END,
        # A path with a NUL inside, after the root: the loader must refuse it, not index it.
        "regress-snapshot-path": edit(CHUNK_STORE, SET_BYTES, 0, 2,
                                      chunk_bytes(b"/", b"/a\x00b")) + END,
        "session_deleted": edit(SNAPSHOT_SESSIONS, DELETE, 0) + END,
        # Row 0 is storage_format, row 1 acceptedEpoch.
        "meta": edit(META, SET_INT, 1, 1, struct.pack(">q", -1)) + END,
        "newer_format": edit(META, SET_INT, 0, 1, struct.pack(">q", 99)) + END,
        "chunk_ref_deleted": edit(CHUNK_REFS, DELETE, 1) + END,
        "chunk_ref_dangling": edit(CHUNK_REFS, SET_INT, 0, 2, struct.pack(">q", 99)) + END,
        "header_damage": END + damage(18, 9) + damage(100, 0),
        "page_damage": END + damage(4096 + 8, 0xFF) + damage(3 * 4096 + 200, 0x41),
        "truncated": END + truncate(3 * 4096),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for fuzzer, seeds in [("peer_fuzzer", peer_seeds()), ("config_fuzzer", config_seeds()),
                          ("recovery_fuzzer", recovery_seeds())]:
        target = os.path.join(root, fuzzer)
        os.makedirs(target, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(target, name), "wb") as f:
                f.write(data)
        print(f"wrote {len(seeds)} seeds to {target}")


if __name__ == "__main__":
    main()
