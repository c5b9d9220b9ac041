#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for the membership messages.

The bytes are built here from PROTOCOL.md 6.1 and 6.8 alone (kind u8, then each field; a
`nick` is a u16 big-endian length and its bytes), with Python's struct module (through
../vectorlib.py) and nothing from the C++ code, so that the conformance test checks the
implementation against a second reading of the document. The output has the layout of
securechat-v1/messages.json (see its README) and is the same byte for byte every time:

    python3 tests/vectors/securechat-membership/generate.py > \
        tests/vectors/securechat-membership/messages.json
"""

import os
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (NICK_32, UNKNOWN_KIND, ignore, refused, reject, s,  # noqa: E402
                       valid_case, write_messages)

MEMBER_JOINED = 0x88
MEMBER_LEFT = 0x89
MEMBER_RENAMED = 0x8A
NAMES = {MEMBER_JOINED: "MEMBER_JOINED", MEMBER_LEFT: "MEMBER_LEFT",
         MEMBER_RENAMED: "MEMBER_RENAMED"}


def valid(name, kind, fields, body):
    return valid_case(name, kind, NAMES[kind], fields, body)


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
    ignore("unknown-server-kind-8b", bytes([0x8B]) + s("bob")),
]
# They are server kinds: a client that sends one gets ERROR 8, and the connection goes on.
for kind in (MEMBER_JOINED, MEMBER_LEFT, MEMBER_RENAMED):
    INVALID.append(refused("unknown-kind-%02x" % kind, bytes([kind]) + s("alice"), UNKNOWN_KIND,
                           False))

write_messages("securechat v1, membership messages (PROTOCOL.md 6.8)", VALID, INVALID)
