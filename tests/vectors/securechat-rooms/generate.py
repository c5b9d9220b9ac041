#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for rooms.

The bytes are built here from PROTOCOL.md 6.1, 6.4, 6.5, 6.11, 6.13, 7.1 and 8 alone (kind u8,
then each field; a `str` is a u16 big-endian length and its bytes, a `u64` eight bytes
big-endian, a `u16` two, a `u8` one), with Python's struct module (through ../vectorlib.py)
and nothing from the C++ code, so that the conformance test checks the implementation against a
second reading of the document. The output has the layout of securechat-v1/messages.json (see
its README) and is the same byte for byte every time:

    python3 tests/vectors/securechat-rooms/generate.py > \
        tests/vectors/securechat-rooms/messages.json

Before writing, it reads the examples PROTOCOL.md 6.13 prints and stops if any differs from
the bytes built here: the document and the vectors say the same thing, or neither is written.
"""

import os
import struct
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (BAD_TEXT, MALFORMED, MAX_TEXT, NICK_32, ROOM_32,  # noqa: E402
                       ROOM_REFUSED, U16_MAX, U64_MAX, UNKNOWN_KIND, check_examples, ignore,
                       printed_examples, protocol_text, refused, reject, s, u8, u16, u64,
                       valid_case, write_messages)

ROOM_JOIN = 0x33
ROOM_PART = 0x34
ROOM_LIST = 0x35
ROOM_TOPIC = 0x36
ROOM_SAY = 0x37
ROOM_WHO = 0x38
ROOM_JOINED = 0xB3
ROOM_EVENT = 0xB4
ROOM_INFO = 0xB5
ROOM_USERS = 0xB6
NAMES = {ROOM_JOIN: "ROOM_JOIN", ROOM_PART: "ROOM_PART", ROOM_LIST: "ROOM_LIST",
         ROOM_TOPIC: "ROOM_TOPIC", ROOM_SAY: "ROOM_SAY", ROOM_WHO: "ROOM_WHO",
         ROOM_JOINED: "ROOM_JOINED", ROOM_EVENT: "ROOM_EVENT", ROOM_INFO: "ROOM_INFO",
         ROOM_USERS: "ROOM_USERS"}
# ROOM_EVENT's events (6.13).
JOINED, LEFT, TOPIC = 1, 2, 3
MAX_TOPIC = 1024        # the protocol's bound on a topic (6.1, 6.13)
SERVER_MAX_TOPIC = 256  # this server's default --max_topic_bytes (6.13, 7.6): its choice


# The values of PROTOCOL.md 6.13's examples.
LOBBY = "#lobby"
DEV = "#dev"
TOPIC_TEXT = "release friday"
# The longest topic and text, each ending with a 3-byte character so that no byte is cut.
TOPIC_1024 = "t" * (MAX_TOPIC - 3) + "\u20ac"
TOPIC_256 = "t" * (SERVER_MAX_TOPIC - 3) + "\u20ac"
TEXT_4096 = "t" * (MAX_TEXT - 3) + "\u20ac"
# 256 distinct nicks of 32 bytes, in the order WHO sorts them (7.3): a full ROOM_USERS page.
NICKS_256 = ["n%03d" % i + "x" * 28 for i in range(256)]
assert len(TOPIC_1024.encode()) == MAX_TOPIC and len(TOPIC_256.encode()) == SERVER_MAX_TOPIC
assert len(TEXT_4096.encode()) == MAX_TEXT and all(len(n) == 32 for n in NICKS_256)


def room_join(room, epoch, after):
    return s(room) + u64(epoch) + u64(after), {"room": room, "epoch": epoch, "after": after}


def room_only(room):
    return s(room), {"room": room}


def room_topic(room, topic):
    return s(room) + s(topic), {"room": room, "topic": topic}


def room_say(room, action, text):
    return s(room) + u8(action) + s(text), {"room": room, "action": action, "text": text}


def room_joined(room, topic, members):
    return (s(room) + s(topic) + u16(members),
            {"room": room, "topic": topic, "members": members})


def room_event(room, event, nick, text):
    return (s(room) + u8(event) + s(nick) + s(text),
            {"room": room, "event": event, "nick": nick, "text": text})


def room_info(room, members, topic, more):
    return (s(room) + u16(members) + s(topic) + u8(more),
            {"room": room, "members": members, "topic": topic, "more": more})


def room_users(room, more, nicks):
    body = s(room) + u8(more) + u16(len(nicks)) + b"".join(s(n) for n in nicks)
    return body, {"room": room, "more": more, "nicks": nicks}


VALID = []


def add(name, kind, built, basis="spec"):
    body, fields = built
    VALID.append(valid_case(name, kind, NAMES[kind], fields, body, basis))


# The twelve examples printed in PROTOCOL.md 6.13, first: the document shows their bytes.
add("room-join", ROOM_JOIN, room_join(DEV, 0, 0))
add("room-join-resume", ROOM_JOIN, room_join(DEV, 0x1122334455667788, 41))
add("room-part", ROOM_PART, room_only(DEV))
add("room-list", ROOM_LIST, (b"", {}))
add("room-topic", ROOM_TOPIC, room_topic(DEV, TOPIC_TEXT))
add("room-say", ROOM_SAY, room_say(DEV, 0, "hello"))
add("room-who", ROOM_WHO, room_only(DEV))
add("room-joined", ROOM_JOINED, room_joined(DEV, TOPIC_TEXT, 2))
add("room-event-joined", ROOM_EVENT, room_event(DEV, JOINED, "bob", ""))
add("room-event-topic", ROOM_EVENT, room_event(DEV, TOPIC, "alice", TOPIC_TEXT))
add("room-info", ROOM_INFO, room_info(DEV, 2, TOPIC_TEXT, 1))
add("room-users", ROOM_USERS, room_users(DEV, 0, ["alice", "bob"]))
EXAMPLES = len(VALID)

# Client messages at the limits. Any u64 is a valid epoch and `after` (6.11).
add("room-join-32-bytes-u64-max", ROOM_JOIN, room_join(ROOM_32, U64_MAX, U64_MAX))
add("room-join-2-bytes", ROOM_JOIN, room_join("#a", 0, 0))
add("room-part-32-bytes", ROOM_PART, room_only(ROOM_32))
add("room-who-lobby", ROOM_WHO, room_only(LOBBY))
add("room-who-32-bytes", ROOM_WHO, room_only(ROOM_32))
# #lobby's topic, set by an operator (6.13); an empty topic clears it.
add("room-topic-lobby", ROOM_TOPIC, room_topic(LOBBY, "welcome, be nice"))
add("room-topic-clear", ROOM_TOPIC, room_topic(DEV, ""))
add("room-topic-utf8", ROOM_TOPIC, room_topic(DEV, "gr\u00fc\u00dfe \u2014 \U0001f600"))
# A topic as long as this server allows by default; another server may allow shorter ones, so
# this is the reference server's choice, not the protocol's.
add("room-topic-256-bytes", ROOM_TOPIC, room_topic(ROOM_32, TOPIC_256), "interpretation")
add("room-say-action", ROOM_SAY, room_say(DEV, 1, "waves"))
add("room-say-4096-bytes", ROOM_SAY, room_say(ROOM_32, 0, TEXT_4096))
# To #lobby, in any case, ROOM_SAY is exactly SAY (action 0) or ACTION (action 1).
add("room-say-lobby", ROOM_SAY, room_say(LOBBY, 0, "hello"))
add("room-say-lobby-action", ROOM_SAY, room_say(LOBBY, 1, "waves"))
add("room-say-lobby-other-case", ROOM_SAY, room_say("#LoBBy", 0, "hello"))
# Server messages at the limits: a 32-byte room, a 1024-byte topic, u16 at its maximum.
add("room-joined-alone-no-topic", ROOM_JOINED, room_joined(DEV, "", 1))
add("room-joined-limits", ROOM_JOINED, room_joined(ROOM_32, TOPIC_1024, U16_MAX))
add("room-event-left", ROOM_EVENT, room_event(DEV, LEFT, "bob", ""))
add("room-event-topic-cleared", ROOM_EVENT, room_event(DEV, TOPIC, "alice", ""))
add("room-event-topic-lobby", ROOM_EVENT, room_event(LOBBY, TOPIC, "alice", "welcome"))
add("room-event-limits", ROOM_EVENT, room_event(ROOM_32, TOPIC, NICK_32, TOPIC_1024))
add("room-info-lobby-last", ROOM_INFO, room_info(LOBBY, 3, "", 0))
add("room-info-limits", ROOM_INFO, room_info(ROOM_32, U16_MAX, TOPIC_1024, 0))
add("room-users-more-1", ROOM_USERS, room_users(DEV, 1, ["alice"]))
add("room-users-lobby", ROOM_USERS, room_users(LOBBY, 0, ["_x", "Bob", "bob2"]))
# A full page: 256 nicks of 32 bytes with the longest room fit one record (6.13).
add("room-users-256-nicks-32-bytes", ROOM_USERS, room_users(ROOM_32, 1, NICKS_256))

INVALID = []
# Rooms that break the rule of 6.11 and 6.13, for every message that carries one.
BAD_ROOMS = [
    ("empty", ""),
    ("without-hash", "dev"),
    ("hash-alone", "#"),
    ("33-bytes", ROOM_32 + "x"),
    ("space", "#de v"),
    ("slash", "#de/v"),
    ("two-hashes", "##dev"),
    ("non-ascii", "#caf\u00e9"),
    ("nul", "#dev\x00"),
]
# Topics a client closes on (6.13, 8): too long, or not a valid text.
BAD_TOPICS = [
    ("1025-bytes", "t" * (MAX_TOPIC + 1)),
    ("control-esc", "x\x1b[2J"),
    ("newline", "a\nb"),
    ("c1-9b-csi", "a\u009bb"),
    ("bidi-u202e", "a\u202eb"),
    ("overlong-c0af", b"a\xc0\xafb"),
    ("truncated-utf8", b"a\xe2\x82"),
]
# Nicks a client closes on (6.1).
BAD_NICKS = [("empty", ""), ("space", "a b"), ("33-bytes", NICK_32 + "x"), ("room-name", DEV)]

# ROOM_JOINED: room, topic, members.
k = bytes([ROOM_JOINED])
INVALID.append(reject("room-joined-missing", k))
INVALID += [reject("room-joined-room-" + n, k + s(r) + s("") + u16(1)) for n, r in BAD_ROOMS]
INVALID += [reject("room-joined-topic-" + n, k + s(DEV) + s(t) + u16(1)) for n, t in BAD_TOPICS]
INVALID += [
    reject("room-joined-room-length-beyond-end", k + struct.pack(">H", 5) + b"#dev"),
    reject("room-joined-no-topic", k + s(DEV)),
    reject("room-joined-topic-length-beyond-end", k + s(DEV) + struct.pack(">H", 2) + b"x"),
    reject("room-joined-no-members", k + s(DEV) + s("")),
    reject("room-joined-short-members", k + s(DEV) + s("") + b"\x00"),
    reject("room-joined-trailing-byte", k + s(DEV) + s("") + u16(1) + b"\x00"),
]
# ROOM_EVENT: room, event, nick, text.
k = bytes([ROOM_EVENT])
INVALID.append(reject("room-event-missing", k))
INVALID += [reject("room-event-room-" + n, k + s(r) + u8(JOINED) + s("bob") + s(""))
            for n, r in BAD_ROOMS]
INVALID += [reject("room-event-text-" + n, k + s(DEV) + u8(TOPIC) + s("alice") + s(t))
            for n, t in BAD_TOPICS]
INVALID += [reject("room-event-nick-" + n, k + s(DEV) + u8(JOINED) + s(x) + s(""))
            for n, x in BAD_NICKS]
INVALID += [
    reject("room-event-no-event", k + s(DEV)),
    reject("room-event-event-0", k + s(DEV) + u8(0) + s("bob") + s("")),
    reject("room-event-event-4", k + s(DEV) + u8(4) + s("bob") + s("")),
    reject("room-event-event-ff", k + s(DEV) + u8(0xFF) + s("bob") + s("")),
    reject("room-event-no-nick", k + s(DEV) + u8(JOINED)),
    reject("room-event-no-text", k + s(DEV) + u8(JOINED) + s("bob")),
    reject("room-event-text-length-beyond-end",
           k + s(DEV) + u8(TOPIC) + s("bob") + struct.pack(">H", 3) + b"hi"),
    reject("room-event-trailing-byte", k + s(DEV) + u8(JOINED) + s("bob") + s("") + b"\x00"),
]
# ROOM_INFO: room, members, topic, more.
k = bytes([ROOM_INFO])
INVALID.append(reject("room-info-missing", k))
INVALID += [reject("room-info-room-" + n, k + s(r) + u16(1) + s("") + u8(0)) for n, r in BAD_ROOMS]
INVALID += [reject("room-info-topic-" + n, k + s(DEV) + u16(1) + s(t) + u8(0))
            for n, t in BAD_TOPICS]
INVALID += [
    reject("room-info-no-members", k + s(DEV)),
    reject("room-info-short-members", k + s(DEV) + b"\x00"),
    reject("room-info-no-topic", k + s(DEV) + u16(1)),
    reject("room-info-no-more", k + s(DEV) + u16(1) + s("")),
    reject("room-info-more-2", k + s(DEV) + u16(1) + s("") + u8(2)),
    reject("room-info-more-ff", k + s(DEV) + u16(1) + s("") + u8(0xFF)),
    reject("room-info-trailing-byte", k + s(DEV) + u16(1) + s("") + u8(0) + b"\x00"),
]
# ROOM_USERS: room, more, count, count nicks.
k = bytes([ROOM_USERS])
INVALID.append(reject("room-users-missing", k))
INVALID += [reject("room-users-room-" + n, k + s(r) + u8(0) + u16(1) + s("bob"))
            for n, r in BAD_ROOMS]
INVALID += [reject("room-users-nick-" + n, k + s(DEV) + u8(0) + u16(2) + s("alice") + s(x))
            for n, x in BAD_NICKS]
INVALID += [
    reject("room-users-no-more", k + s(DEV)),
    reject("room-users-more-2", k + s(DEV) + u8(2) + u16(1) + s("bob")),
    reject("room-users-no-count", k + s(DEV) + u8(0)),
    reject("room-users-short-count", k + s(DEV) + u8(0) + b"\x00"),
    reject("room-users-count-beyond-end", k + s(DEV) + u8(0) + u16(3) + s("alice") + s("bob")),
    reject("room-users-nick-length-beyond-end",
           k + s(DEV) + u8(0) + u16(1) + struct.pack(">H", 4) + b"bob"),
    reject("room-users-trailing-byte", k + s(DEV) + u8(0) + u16(1) + s("bob") + b"\x00"),
    # The kind after the room answers is still unknown to a client: skipped.
    ignore("rooms-unknown-server-kind-b7", bytes([0xB7]) + s(DEV)),
]

# Client messages, with the ERROR a joined client gets (7.1: layout, then the room, then the
# rest of the content). Only outcomes that hold whatever rooms the client is in are listed:
# an invalid room, #lobby where it is refused, and a bad topic or text for #lobby, which every
# joined client is in. What depends on membership (a room the client is not in, or is in), on
# who made a room, on limits or on a mute, `conformance_test` checks live.
k = bytes([ROOM_JOIN])
INVALID += [
    refused("room-join-missing", k, MALFORMED, True),
    refused("room-join-room-length-beyond-end", k + struct.pack(">H", 5) + b"#dev", MALFORMED,
            True),
    refused("room-join-no-epoch", k + s(DEV), MALFORMED, True),
    refused("room-join-short-epoch", k + s(DEV) + b"\x00" * 7, MALFORMED, True),
    refused("room-join-no-after", k + s(DEV) + u64(0), MALFORMED, True),
    refused("room-join-short-after", k + s(DEV) + u64(0) + b"\x00" * 7, MALFORMED, True),
    refused("room-join-trailing-byte", k + s(DEV) + u64(0) + u64(0) + b"\x00", MALFORMED, True),
]
INVALID += [refused("room-join-room-" + n, k + s(r) + u64(0) + u64(0), ROOM_REFUSED, False)
            for n, r in BAD_ROOMS]
INVALID += [
    # Every joined client is in #lobby already, whatever the case it names it in.
    refused("room-join-lobby", k + s(LOBBY) + u64(0) + u64(0), ROOM_REFUSED, False),
    refused("room-join-lobby-other-case", k + s("#LOBBY") + u64(0) + u64(0), ROOM_REFUSED, False),
]
k = bytes([ROOM_PART])
INVALID += [
    refused("room-part-missing", k, MALFORMED, True),
    refused("room-part-short-length", k + b"\x00", MALFORMED, True),
    refused("room-part-trailing-byte", k + s(DEV) + b"\x00", MALFORMED, True),
]
INVALID += [refused("room-part-room-" + n, k + s(r), ROOM_REFUSED, False) for n, r in BAD_ROOMS]
INVALID += [
    # #lobby cannot be left but with the server (QUIT, BYE).
    refused("room-part-lobby", k + s(LOBBY), ROOM_REFUSED, False),
    refused("room-part-lobby-other-case", k + s("#Lobby"), ROOM_REFUSED, False),
]
INVALID.append(refused("room-list-trailing-byte", bytes([ROOM_LIST, 0]), MALFORMED, True))
k = bytes([ROOM_TOPIC])
INVALID += [
    refused("room-topic-missing", k, MALFORMED, True),
    refused("room-topic-no-topic", k + s(LOBBY), MALFORMED, True),
    refused("room-topic-topic-length-beyond-end", k + s(LOBBY) + struct.pack(">H", 3) + b"hi",
            MALFORMED, True),
    refused("room-topic-trailing-byte", k + s(LOBBY) + s("hi") + b"\x00", MALFORMED, True),
]
INVALID += [refused("room-topic-room-" + n, k + s(r) + s("hi"), ROOM_REFUSED, False)
            for n, r in BAD_ROOMS]
# The room is judged before the topic.
INVALID.append(refused("room-topic-bad-room-and-topic", k + s("#") + s("a\x1bb"), ROOM_REFUSED,
                       False))
# The topic is judged before who may set it (7.1, 6): ERROR 7 from anyone, for #lobby.
INVALID += [refused("room-topic-lobby-" + n, k + s(LOBBY) + s(t), BAD_TEXT, False)
            for n, t in BAD_TOPICS]
# Longer than this server allows by default, shorter than the protocol's bound: ERROR 7 here,
# while a server that allows longer topics takes it.
INVALID.append(refused("room-topic-lobby-257-bytes", k + s(LOBBY) + s("t" * (SERVER_MAX_TOPIC + 1)),
                       BAD_TEXT, False, "interpretation"))
k = bytes([ROOM_SAY])
INVALID += [
    refused("room-say-missing", k, MALFORMED, True),
    refused("room-say-no-action", k + s(LOBBY), MALFORMED, True),
    refused("room-say-action-2", k + s(LOBBY) + u8(2) + s("hello"), MALFORMED, True),
    refused("room-say-action-ff", k + s(LOBBY) + u8(0xFF) + s("hello"), MALFORMED, True),
    # Layout comes before content: an invalid room does not make it ERROR 15.
    refused("room-say-action-2-bad-room", k + s("dev") + u8(2) + s("hello"), MALFORMED, True),
    refused("room-say-no-text", k + s(LOBBY) + u8(0), MALFORMED, True),
    refused("room-say-text-length-beyond-end", k + s(LOBBY) + u8(0) + struct.pack(">H", 6)
            + b"hello", MALFORMED, True),
    refused("room-say-trailing-byte", k + s(LOBBY) + u8(0) + s("hello") + b"\x00", MALFORMED,
            True),
]
INVALID += [refused("room-say-room-" + n, k + s(r) + u8(0) + s("hello"), ROOM_REFUSED, False)
            for n, r in BAD_ROOMS]
INVALID.append(refused("room-say-bad-room-and-text", k + s("#") + u8(0) + s(""), ROOM_REFUSED,
                       False))
# To #lobby, the text rules of SAY and ACTION (6.1): ERROR 7.
BAD_TEXTS = [
    ("empty", ""),
    ("4097-bytes", "t" * (MAX_TEXT + 1)),
    ("control-esc", "x\x1b[2J"),
    ("newline", "a\nb"),
    ("c1-9b-csi", "a\u009bb"),
    ("bidi-u202e", "a\u202eb"),
    ("overlong-c0af", b"a\xc0\xafb"),
]
INVALID += [refused("room-say-lobby-" + n, k + s(LOBBY) + u8(0) + s(t), BAD_TEXT, False)
            for n, t in BAD_TEXTS]
INVALID.append(refused("room-say-lobby-action-control-esc", k + s(LOBBY) + u8(1) + s("x\x1b[2J"),
                       BAD_TEXT, False))
k = bytes([ROOM_WHO])
INVALID += [
    refused("room-who-missing", k, MALFORMED, True),
    refused("room-who-room-length-beyond-end", k + struct.pack(">H", 7) + b"#lobby", MALFORMED,
            True),
    refused("room-who-trailing-byte", k + s(LOBBY) + b"\x00", MALFORMED, True),
]
INVALID += [refused("room-who-room-" + n, k + s(r), ROOM_REFUSED, False) for n, r in BAD_ROOMS]
# The client kind after the room messages is still unknown, and a client that sends one of
# the server's room answers gets ERROR 8 (6.5), whatever follows the kind byte.
INVALID.append(refused("rooms-unknown-kind-39", bytes([0x39]) + s(DEV), UNKNOWN_KIND, False))
for name, kind, built in [("room-joined", ROOM_JOINED, room_joined(DEV, TOPIC_TEXT, 2)),
                          ("room-event", ROOM_EVENT, room_event(DEV, JOINED, "bob", "")),
                          ("room-info", ROOM_INFO, room_info(DEV, 2, TOPIC_TEXT, 1)),
                          ("room-users", ROOM_USERS, room_users(DEV, 0, ["alice", "bob"]))]:
    INVALID.append(refused(name + "-from-a-client", bytes([kind]) + built[0], UNKNOWN_KIND,
                           False))

# The document and the vectors say the same thing, or neither is written.
check_examples(printed_examples(protocol_text(), "tests/vectors/securechat-rooms/messages.json`:"),
               VALID[:EXAMPLES], "6.13")
write_messages("securechat v1, rooms (PROTOCOL.md 6.13)", VALID, INVALID)
