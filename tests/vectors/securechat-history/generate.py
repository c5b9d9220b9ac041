#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for history.

The bytes are built here from PROTOCOL.md 6.1, 6.5 and 6.11 alone (kind u8, then each field;
a `str` is a u16 big-endian length and its bytes, a `u64` eight bytes big-endian, a `u8` one
byte), with Python's struct module (through ../vectorlib.py) and nothing from the C++ code, so
that the conformance test checks the implementation against a second reading of the document.
The output has the layout of securechat-v1/messages.json (see its README) and is the same byte
for byte every time:

    python3 tests/vectors/securechat-history/generate.py > \
        tests/vectors/securechat-history/messages.json
"""

import os
import struct
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (MALFORMED, MAX_TEXT, NICK_32, ROOM_32, UNKNOWN_KIND,  # noqa: E402
                       U64_MAX, ignore, refused, reject, s, u8, u64, valid_case, write_messages)

HISTORY = 0x31
ROOM_LINE = 0xB1
HISTORY_END = 0xB2
NAMES = {HISTORY: "HISTORY", ROOM_LINE: "ROOM_LINE", HISTORY_END: "HISTORY_END"}


# The values of PROTOCOL.md 6.11's examples.
LOBBY = "#lobby"
EPOCH = 0x5EC0C4A7F00D1234
TIME = 1700000000123
# The longest text: 4096 bytes, ending with a 3-byte character so that no byte is cut.
TEXT_4096 = "t" * (MAX_TEXT - 3) + "\u20ac"
assert len(TEXT_4096.encode()) == MAX_TEXT


def history(epoch, after):
    return u64(epoch) + u64(after), {"epoch": epoch, "after": after}


def room_line(room, seq, time_ms, sender, action, hist, text):
    body = s(room) + u64(seq) + u64(time_ms) + s(sender) + u8(action) + u8(hist) + s(text)
    return body, {"room": room, "seq": seq, "time_ms": time_ms, "from": sender,
                  "action": action, "history": hist, "text": text}


def history_end(room, epoch, last_seq, missed):
    body = s(room) + u64(epoch) + u64(last_seq) + u64(missed)
    return body, {"room": room, "epoch": epoch, "last_seq": last_seq, "missed": missed}


VALID = []


def add(name, kind, built):
    body, fields = built
    VALID.append(valid_case(name, kind, NAMES[kind], fields, body))


# The six examples printed in PROTOCOL.md 6.11, first: the document shows their bytes.
add("history-first", HISTORY, history(0, 0))
add("history-resume", HISTORY, history(EPOCH, 41))
add("room-line", ROOM_LINE, room_line(LOBBY, 42, TIME, "alice", 0, 0, "hello"))
add("room-line-history-action", ROOM_LINE, room_line(LOBBY, 7, TIME, "bob", 1, 1, "waves"))
add("history-end", HISTORY_END, history_end(LOBBY, EPOCH, 42, 0))
add("history-end-missed", HISTORY_END, history_end(LOBBY, EPOCH, 120, 29))
# At the limits: any u64 is valid on the wire.
add("history-u64-max", HISTORY, history(U64_MAX, U64_MAX))
add("history-epoch-1-after-0", HISTORY, history(1, 0))
# A console line (6.6) is a room line from `server`.
add("room-line-server", ROOM_LINE, room_line(LOBBY, 1, TIME, "server", 0, 0, "maintenance at 6"))
add("room-line-server-history", ROOM_LINE,
    room_line(LOBBY, 3, TIME, "server", 0, 1, "maintenance at 6"))
add("room-line-live-action", ROOM_LINE, room_line(LOBBY, 8, TIME, "alice", 1, 0, "waves"))
add("room-line-utf8", ROOM_LINE,
    room_line(LOBBY, 9, TIME, "bob", 0, 0, "gr\u00fc\u00dfe \u2014 \U0001f600"))
add("room-line-room-2-bytes", ROOM_LINE, room_line("#a", 1, TIME, "alice", 0, 0, "hi"))
add("room-line-room-32-bytes", ROOM_LINE, room_line(ROOM_32, 1, TIME, "alice", 0, 0, "hi"))
# Another room is valid on the wire; a client skips it (6.11), which is not the decoder's job.
add("room-line-other-room", ROOM_LINE, room_line("#dev", 5, TIME, "alice", 0, 0, "hi"))
add("room-line-limits", ROOM_LINE,
    room_line(ROOM_32, U64_MAX, U64_MAX, NICK_32, 1, 1, TEXT_4096))
add("room-line-zeros", ROOM_LINE, room_line(LOBBY, 0, 0, "a", 0, 0, "x"))
add("history-end-no-lines", HISTORY_END, history_end(LOBBY, 1, 0, 0))
add("history-end-u64-max", HISTORY_END, history_end(ROOM_32, U64_MAX, U64_MAX, U64_MAX))
add("history-end-epoch-0", HISTORY_END, history_end(LOBBY, 0, 0, 0))

INVALID = []
# Rooms that break the rule of 6.11, for both server messages that carry one.
BAD_ROOMS = [
    ("empty", ""),
    ("lobby-without-hash", "lobby"),
    ("hash-alone", "#"),
    ("33-bytes", ROOM_32 + "x"),
    ("space", "#lob by"),
    ("slash", "#lob/by"),
    ("two-hashes", "##lobby"),
    ("non-ascii", "#caf\u00e9"),
    ("nul", "#lobby\x00"),
]
# Server messages a client closes on: ROOM_LINE, a bad value for every field, each field
# missing or cut short, and a trailing byte.
rl = bytes([ROOM_LINE])
head = s(LOBBY) + u64(42) + u64(TIME)  # room, seq, time_ms
who = head + s("alice")                # ... from
flags = who + u8(0) + u8(0)            # ... action, history


def rl_room(room):
    return rl + s(room) + u64(42) + u64(TIME) + s("alice") + u8(0) + u8(0) + s("hello")


def rl_text(text):
    return rl + flags + s(text)


INVALID.append(reject("room-line-missing", rl))
INVALID += [reject("room-line-room-" + name, rl_room(room)) for name, room in BAD_ROOMS]
INVALID += [
    reject("room-line-room-length-beyond-end", rl + struct.pack(">H", 7) + b"#lobby"),
    reject("room-line-no-seq", rl + s(LOBBY)),
    reject("room-line-short-seq", rl + s(LOBBY) + b"\x00" * 7),
    reject("room-line-no-time", rl + s(LOBBY) + u64(42)),
    reject("room-line-short-time", rl + s(LOBBY) + u64(42) + b"\x00" * 7),
    reject("room-line-no-from", rl + head),
    reject("room-line-from-empty", rl + head + s("") + u8(0) + u8(0) + s("hello")),
    reject("room-line-from-space", rl + head + s("a b") + u8(0) + u8(0) + s("hello")),
    reject("room-line-from-33-bytes", rl + head + s(NICK_32 + "x") + u8(0) + u8(0) + s("hello")),
    reject("room-line-from-room-name", rl + head + s(LOBBY) + u8(0) + u8(0) + s("hello")),
    reject("room-line-no-action", rl + who),
    reject("room-line-action-2", rl + who + u8(2) + u8(0) + s("hello")),
    reject("room-line-action-ff", rl + who + u8(0xFF) + u8(0) + s("hello")),
    reject("room-line-no-history", rl + who + u8(0)),
    reject("room-line-history-2", rl + who + u8(0) + u8(2) + s("hello")),
    reject("room-line-no-text", rl + flags),
    reject("room-line-text-empty", rl_text("")),
    reject("room-line-text-control-esc", rl_text("x\x1b[2J")),
    reject("room-line-text-newline", rl_text("a\nb")),
    reject("room-line-text-c1-9b-csi", rl_text("a\u009bb")),
    reject("room-line-text-bidi-u202e", rl_text("a\u202eb")),
    reject("room-line-text-overlong-c0af", rl + flags + s(b"a\xc0\xafb")),
    reject("room-line-text-surrogate-eda080", rl + flags + s(b"a\xed\xa0\x80")),
    reject("room-line-text-truncated-utf8", rl + flags + s(b"a\xe2\x82")),
    reject("room-line-text-4097-bytes", rl_text("t" * (MAX_TEXT + 1))),
    reject("room-line-text-length-beyond-end", rl + flags + struct.pack(">H", 6) + b"hello"),
    reject("room-line-trailing-byte", rl + flags + s("hello") + b"\x00"),
]
he = bytes([HISTORY_END])


def he_room(room):
    return he + s(room) + u64(EPOCH) + u64(42) + u64(0)


INVALID.append(reject("history-end-missing", he))
INVALID += [reject("history-end-room-" + name, he_room(room)) for name, room in BAD_ROOMS]
INVALID += [
    reject("history-end-no-epoch", he + s(LOBBY)),
    reject("history-end-short-epoch", he + s(LOBBY) + b"\x00" * 7),
    reject("history-end-no-last-seq", he + s(LOBBY) + u64(EPOCH)),
    reject("history-end-short-last-seq", he + s(LOBBY) + u64(EPOCH) + b"\x00" * 7),
    reject("history-end-no-missed", he + s(LOBBY) + u64(EPOCH) + u64(42)),
    reject("history-end-short-missed", he + s(LOBBY) + u64(EPOCH) + u64(42) + b"\x00" * 7),
    reject("history-end-trailing-byte", he_room(LOBBY) + b"\x00"),
    # The ends of the range kept for rooms and history are still unknown to a client: skipped.
    ignore("history-unknown-server-kind-b0", bytes([0xB0]) + s(LOBBY)),
    ignore("history-unknown-server-kind-bf", bytes([0xBF])),
]
# Client messages the server refuses. HISTORY's layout is two u64s and nothing more.
hi = bytes([HISTORY])
INVALID += [
    refused("history-missing", hi, MALFORMED, True),
    refused("history-short-epoch", hi + b"\x00" * 7, MALFORMED, True),
    refused("history-no-after", hi + u64(EPOCH), MALFORMED, True),
    refused("history-short-after", hi + u64(EPOCH) + b"\x00" * 7, MALFORMED, True),
    refused("history-trailing-byte", hi + u64(0) + u64(0) + b"\x00", MALFORMED, True),
    refused("history-as-str", hi + s("0"), MALFORMED, True),
    # The ends of the range kept for rooms and history are still unknown kinds.
    refused("history-unknown-kind-30", bytes([0x30]) + u64(0) + u64(0), UNKNOWN_KIND, False),
    refused("history-unknown-kind-3f", bytes([0x3F]), UNKNOWN_KIND, False),
]
# They are server kinds: a client that sends one gets ERROR 8, and the connection goes on.
body, _ = room_line(LOBBY, 42, TIME, "alice", 0, 0, "hello")
INVALID.append(refused("room-line-from-a-client", rl + body, UNKNOWN_KIND, False))
body, _ = history_end(LOBBY, EPOCH, 42, 0)
INVALID.append(refused("history-end-from-a-client", he + body, UNKNOWN_KIND, False))

write_messages("securechat v1, history (PROTOCOL.md 6.11)", VALID, INVALID)
