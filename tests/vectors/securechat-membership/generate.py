#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for the membership messages.

The bytes are built here from PROTOCOL.md 6.1 and 6.8 alone (kind u8, then each field; a
`nick` is a u16 big-endian length and its bytes), with Python's struct module and nothing from
the C++ code, so that the conformance test checks the implementation against a second reading
of the document. The output has the layout of securechat-v1/messages.json (see its README) and
is the same byte for byte every time:

    python3 tests/vectors/securechat-membership/generate.py > \
        tests/vectors/securechat-membership/messages.json
"""

import json
import struct
import sys

MEMBER_JOINED = 0x88
MEMBER_LEFT = 0x89
MEMBER_RENAMED = 0x8A
NAMES = {MEMBER_JOINED: "MEMBER_JOINED", MEMBER_LEFT: "MEMBER_LEFT",
         MEMBER_RENAMED: "MEMBER_RENAMED"}
# The server's answer to a kind it does not know (PROTOCOL.md 6.4): ERROR 8, not fatal.
UNKNOWN_KIND = 8


def s(text):
    """A `str`: u16 big-endian length, then the bytes (UTF-8 for text)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack(">H", len(raw)) + raw


def valid(name, kind, fields, body):
    return {"name": name, "direction": "s2c", "kind": kind, "kind_name": NAMES[kind],
            "fields": fields, "bytes": (bytes([kind]) + body).hex(), "basis": "spec"}


def reject(name, raw):
    """A server message a client must close on."""
    return {"name": name, "direction": "s2c", "bytes": raw.hex(), "verdict": "reject",
            "basis": "spec"}


NICK_32 = "Az09_.-Az09_.-Az09_.-Az09_.-abcd"
NICK_33 = NICK_32 + "e"

VALID = [
    valid("member-joined", MEMBER_JOINED, {"nick": "alice"}, s("alice")),
    valid("member-joined-1-char", MEMBER_JOINED, {"nick": "x"}, s("x")),
    valid("member-joined-32-chars", MEMBER_JOINED, {"nick": NICK_32}, s(NICK_32)),
    valid("member-left", MEMBER_LEFT, {"nick": "bob"}, s("bob")),
    valid("member-renamed", MEMBER_RENAMED, {"old_nick": "bob", "new_nick": "robert"},
          s("bob") + s("robert")),
    valid("member-renamed-case-only", MEMBER_RENAMED, {"old_nick": "alice", "new_nick": "Alice"},
          s("alice") + s("Alice")),
]

INVALID = []
# A bad case per field: missing, half a length, a length past the end, empty, too long, a byte
# outside the nick alphabet, and a trailing byte after the last field.
for kind, prefix, before in [(MEMBER_JOINED, "member-joined", b""),
                             (MEMBER_LEFT, "member-left", b""),
                             (MEMBER_RENAMED, "member-renamed-old", b""),
                             (MEMBER_RENAMED, "member-renamed-new", s("bob"))]:
    after = s("robert") if prefix == "member-renamed-old" else b""
    k = bytes([kind]) + before
    INVALID += [
        reject(prefix + "-missing", k),
        reject(prefix + "-half-length", k + b"\x00"),
        reject(prefix + "-truncated-str", k + b"\x00\x05ali"),
        reject(prefix + "-empty", k + s("") + after),
        reject(prefix + "-33-chars", k + s(NICK_33) + after),
        reject(prefix + "-bad-nick", k + s("a b") + after),
        reject(prefix + "-control", k + s("a\x1b") + after),
    ]
INVALID += [
    reject("member-joined-trailing-byte", bytes([MEMBER_JOINED]) + s("alice") + b"\x00"),
    reject("member-left-trailing-byte", bytes([MEMBER_LEFT]) + s("bob") + b"\x00"),
    reject("member-renamed-trailing-byte",
           bytes([MEMBER_RENAMED]) + s("bob") + s("robert") + b"\x00"),
    # The next kind after them is still unknown to a client: skipped.
    {"name": "unknown-server-kind-8b", "direction": "s2c", "bytes": "8b0003626f62",
     "verdict": "ignore", "basis": "spec"},
]
# They are server kinds: a client that sends one gets ERROR 8, and the connection goes on.
for kind in (MEMBER_JOINED, MEMBER_LEFT, MEMBER_RENAMED):
    INVALID.append({"name": "unknown-kind-%02x" % kind, "direction": "c2s",
                    "bytes": (bytes([kind]) + s("alice")).hex(), "verdict": "reject",
                    "basis": "spec", "error_code": UNKNOWN_KIND, "fatal": False})

json.dump({"protocol": "securechat v1, membership messages (PROTOCOL.md 6.8)",
           "valid": VALID, "invalid": INVALID}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
