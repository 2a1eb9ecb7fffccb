#!/usr/bin/env python3
"""Writes frame_fuzzer's seed corpus into tests/fuzz/corpus/frame_fuzzer/ (make_seeds.py writes
the other fuzzers').

Each seed is a sequence of steps in frame_fuzzer's input format (see the top of
frame_fuzzer.cc): control byte, big-endian int32 length, payload. The payloads are
well-formed ZooKeeper 3.8 requests, so the fuzzer starts from inputs that reach deep
into the request pipeline. Run it again after changing the format; commit the output.
"""

import os
import struct
import sys

# Control byte bits.
LINK_B = 0x01
RECONNECT = 0x10
REATTACH = 0x20
FOUR_LETTER_WORD = 0x40
DURABLE = 0x80  # every pending log append becomes durable before the step


def clock(i):
    """Control bits that advance the clock by kClockSteps[i] (1..7) and tick first;
    clock(1) also makes the oldest pending log append durable."""
    return (i & 7) << 1


# OpCodes and flags (wire/protocol.h).
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL, GET_CHILDREN = 1, 2, 3, 4, 5, 6, 7, 8
SYNC, PING, GET_CHILDREN2, CHECK, MULTI = 9, 11, 12, 13, 14
CHECK_WATCHES, REMOVE_WATCHES, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = 17, 18, 19, 21, 22
AUTH, SET_WATCHES2, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER = 100, 105, 103, 104
ADD_WATCH, WHO_AM_I, CLOSE_SESSION = 106, 107, -11
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL = 4, 5


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def boolean(v):
    return b"\x01" if v else b"\x00"


def buf(b):
    if b is None:
        return i32(-1)
    if isinstance(b, str):
        b = b.encode()
    return i32(len(b)) + b


def strings(v):
    return i32(len(v)) + b"".join(buf(s) for s in v)


OPEN_ACL = i32(1) + i32(31) + buf("world") + buf("anyone")


def step(control, payload):
    """A step after which the server is caught up: every earlier write is durable."""
    return bytes([control | DURABLE]) + i32(len(payload)) + payload


def pending_step(control, payload):
    """A step that leaves earlier writes pending in the log."""
    return bytes([control]) + i32(len(payload)) + payload


def connect(timeout_ms=10000, session_id=0, passwd=b"\x00" * 16):
    return i32(0) + i64(0) + i32(timeout_ms) + i64(session_id) + buf(passwd) + boolean(False)


def request(xid, op, body=b""):
    return i32(xid) + i32(op) + body


def create(path, data="", flags=PERSISTENT, acl=OPEN_ACL, ttl=None):
    body = buf(path) + buf(data) + acl + i32(flags)
    return body + (i64(ttl) if ttl is not None else b"")


def path_watch(path, watch=False):
    return buf(path) + boolean(watch)


def path_version(path, version=-1):
    return buf(path) + i32(version)


def set_data(path, data, version=-1):
    return buf(path) + buf(data) + i32(version)


def multi_op(op, body):
    return i32(op) + boolean(False) + i32(-1) + body


MULTI_DONE = i32(-1) + boolean(True) + i32(-1)


def seeds():
    out = {}
    out["basic"] = b"".join([
        step(0, connect()),
        step(0, request(1, CREATE, create("/a", "hello"))),
        step(0, request(2, GET_DATA, path_watch("/a", True))),
        step(0, request(3, EXISTS, path_watch("/a/b", True))),
        step(0, request(4, SET_DATA, set_data("/a", "world", 0))),
        step(0, request(5, GET_CHILDREN2, path_watch("/", True))),
        step(0, request(6, CREATE, create("/a/b", None, PERSISTENT_SEQUENTIAL))),
        step(0, request(7, GET_ACL, buf("/a"))),
        step(0, request(8, SYNC, buf("/a"))),
        step(0, request(9, DELETE, path_version("/a", -1))),
        step(0, request(10, GET_ALL_CHILDREN_NUMBER, buf("/"))),
        step(0, request(-2, PING)),
        step(0, request(11, CLOSE_SESSION)),
    ])
    out["two_sessions"] = b"".join([
        step(0, connect()),
        step(LINK_B, connect(30000)),
        step(0, request(1, CREATE, create("/e", "x", EPHEMERAL))),
        step(0, request(2, CREATE, create("/s-", "", EPHEMERAL_SEQUENTIAL))),
        step(LINK_B, request(1, EXISTS, path_watch("/e", True))),
        step(LINK_B, request(2, GET_CHILDREN, path_watch("/", True))),
        step(0, request(3, GET_EPHEMERALS, buf("/"))),
        step(clock(6), request(4, PING)),
        step(LINK_B | clock(7), request(3, GET_CHILDREN, path_watch("/", False))),
        step(LINK_B | FOUR_LETTER_WORD, b"\x04"),
    ])
    out["multi"] = b"".join([
        step(0, connect()),
        step(0, request(1, MULTI, b"".join([
            multi_op(CREATE, create("/m", "1")),
            multi_op(CREATE, create("/m/x", "2")),
            multi_op(CHECK, path_version("/m", 0)),
            multi_op(SET_DATA, set_data("/m", "3", 0)),
            multi_op(DELETE, path_version("/m/x")),
        ]) + MULTI_DONE)),
        step(0, request(2, MULTI, multi_op(CREATE, create("/m", "again")) +
                        multi_op(DELETE, path_version("/nope")) + MULTI_DONE)),
        step(0, request(3, MULTI_READ, multi_op(GET_DATA, path_watch("/m")) +
                        multi_op(GET_CHILDREN, path_watch("/")) + MULTI_DONE)),
        step(0, request(4, SET_ACL, buf("/m") + OPEN_ACL + i32(-1))),
    ])
    out["watches_auth"] = b"".join([
        step(0, connect()),
        step(0, request(-4, AUTH, i32(0) + buf("digest") + buf("super:secret"))),
        step(0, request(1, ADD_WATCH, buf("/") + i32(1))),
        step(0, request(2, ADD_WATCH, buf("/w") + i32(0))),
        step(0, request(3, SET_WATCHES2, i64(0) + strings(["/w"]) + strings(["/x"]) +
                        strings(["/"]) + strings(["/p"]) + strings(["/r"]))),
        step(0, request(4, CREATE, create("/w", "d", PERSISTENT,
                                          i32(1) + i32(31) + buf("auth") + buf("")))),
        step(0, request(5, CHECK_WATCHES, buf("/w") + i32(3))),
        step(0, request(6, REMOVE_WATCHES, buf("/w") + i32(2))),
        step(0, request(7, WHO_AM_I)),
        step(LINK_B, connect()),
        step(LINK_B, request(1, GET_DATA, path_watch("/w", True))),
        step(FOUR_LETTER_WORD, b"\x05"),
        step(LINK_B | FOUR_LETTER_WORD, b"\x02"),
    ])
    out["containers_ttl"] = b"".join([
        step(0, connect(40000)),
        step(0, request(1, CREATE_CONTAINER, create("/c", "", CONTAINER))),
        step(0, request(2, CREATE, create("/c/x", ""))),
        step(0, request(3, DELETE, path_version("/c/x"))),
        step(0, request(4, CREATE_TTL, create("/t", "", PERSISTENT_WITH_TTL, ttl=100))),
        step(clock(4), request(5, PING)),
        step(clock(4), request(6, EXISTS, path_watch("/c"))),
    ])
    out["reattach"] = b"".join([
        step(0, connect(20000)),
        step(0, request(1, CREATE, create("/eph", "", EPHEMERAL))),
        step(LINK_B | REATTACH, connect(20000)),
        step(LINK_B, request(1, EXISTS, path_watch("/eph"))),
        step(LINK_B | RECONNECT | REATTACH, connect(20000)),
        step(LINK_B | clock(6), request(2, PING)),
        step(0, connect()),
        step(clock(7), request(1, EXISTS, path_watch("/eph"))),
    ])
    out["pipelined"] = b"".join([
        pending_step(0, connect()),
        pending_step(0, request(1, CREATE, create("/p", "1"))),
        pending_step(0, request(2, GET_DATA, path_watch("/p", True))),
        pending_step(clock(1), request(3, SET_DATA, set_data("/p", "2"))),
        pending_step(LINK_B | clock(1), connect()),
        pending_step(LINK_B | clock(1), request(1, CREATE, create("/q", "", EPHEMERAL))),
        pending_step(0, request(4, CLOSE_SESSION)),
        pending_step(LINK_B | clock(7), request(2, EXISTS, path_watch("/q", True))),
        pending_step(LINK_B | RECONNECT | REATTACH | clock(1), connect()),
        pending_step(LINK_B | clock(1), request(3, DELETE, path_version("/q"))),
    ])
    out["bad_frames"] = b"".join([
        step(0, connect()),
        step(LINK_B, connect()),
        step(LINK_B, request(1, CREATE, buf("/z") + i32(1000))),
        step(0, request(1, CREATE, i32(-7))),
        step(0, request(2, 9999, b"junk")),
    ])
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "frame_fuzzer")
    os.makedirs(target, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds())} seeds to {target}")


if __name__ == "__main__":
    main()
