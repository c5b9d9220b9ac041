#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for file transfer.

The bytes are built here from PROTOCOL.md 6.1 to 6.5, 6.14, 7.1, 8 and 10 alone (kind u8, then
each field; a `str` is a u16 big-endian length and its bytes, a `u64` eight bytes big-endian, a
`u32` four, a `u8` one), with Python's struct module (through ../vectorlib.py) and hashlib and
nothing from the C++ code, so that the conformance test checks the implementation against a
second reading of the document. The output has the layout of securechat-v1/messages.json (see
its README) and is the same byte for byte every time:

    python3 tests/vectors/securechat-files/generate.py > \
        tests/vectors/securechat-files/messages.json

Before writing, it reads the examples PROTOCOL.md 6.14 prints (with `<hash>` standing for the
SHA-256 the text gives) and stops if any differs from the bytes built here, or if that SHA-256
is not the SHA-256 of the example's file: the document and the vectors say the same thing, or
neither is written.
"""

import hashlib
import os
import re
import struct
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (MALFORMED, MAX_REASON, NICK_32, U32_MAX, U64_MAX,  # noqa: E402
                       UNKNOWN_KIND, check_examples, ignore, printed_examples, protocol_text,
                       refused, reject, s, u8, u32, u64, valid_case, write_messages)

FILE_OFFER = 0x11
FILE_ACCEPT = 0x12
FILE_CANCEL = 0x13
FILE_CHUNK = 0x14
FILE_DONE = 0x15
FILE_OFFERED = 0x91
FILE_INCOMING = 0x92
FILE_ACCEPTED = 0x93
FILE_DATA = 0x94
FILE_END = 0x95
NAMES = {FILE_OFFER: "FILE_OFFER", FILE_ACCEPT: "FILE_ACCEPT", FILE_CANCEL: "FILE_CANCEL",
         FILE_CHUNK: "FILE_CHUNK", FILE_DONE: "FILE_DONE", FILE_OFFERED: "FILE_OFFERED",
         FILE_INCOMING: "FILE_INCOMING", FILE_ACCEPTED: "FILE_ACCEPTED", FILE_DATA: "FILE_DATA",
         FILE_END: "FILE_END"}
# FILE_END's `why` (6.14).
WHY = {1: "done", 2: "declined", 3: "sender-cancelled", 4: "receiver-cancelled", 5: "expired",
       6: "gone", 7: "broken", 8: "refused", 9: "stalled"}
MAX_NAME = 255         # a file name's bytes (6.14)
HASH_LEN = 32          # SHA-256 (6.14)
MAX_PLAINTEXT = 16384  # a record's plaintext (5, 10)
MAX_CHUNK = MAX_PLAINTEXT - (1 + 4 + 8 + 2)  # kind, id, offset, length: 16369 (6.14)
assert MAX_CHUNK == 16369


# The values of PROTOCOL.md 6.14's examples: the file notes.txt, "hello" and a line feed.
CONTENT = b"hello\n"
HASH = hashlib.sha256(CONTENT).digest()
EMPTY_HASH = hashlib.sha256(b"").digest()
NAME = "notes.txt"
# The longest name and reason, each ending with a 3-byte character so that no byte is cut.
NAME_255 = "n" * (MAX_NAME - 3) + "\u20ac"
REASON_256 = "r" * (MAX_REASON - 3) + "\u20ac"
# The longest chunk: every byte value, over and over.
DATA_MAX = bytes(i % 256 for i in range(MAX_CHUNK))
assert len(NAME_255.encode()) == MAX_NAME and len(REASON_256.encode()) == MAX_REASON


def file_offer(tag, to, name, size, hash_):
    return (u32(tag) + s(to) + s(name) + u64(size) + s(hash_),
            {"tag": tag, "to": to, "name": name, "size": size, "hash": hash_.hex()})


def id_only(id_):
    return u32(id_), {"id": id_}


def file_cancel(id_, reason):
    return u32(id_) + s(reason), {"id": id_, "reason": reason}


def chunk(id_, offset, data):
    """FILE_CHUNK and FILE_DATA: the same fields."""
    return u32(id_) + u64(offset) + s(data), {"id": id_, "offset": offset, "data": data.hex()}


def file_offered(tag, id_):
    return u32(tag) + u32(id_), {"tag": tag, "id": id_}


def file_incoming(id_, from_, name, size, hash_):
    return (u32(id_) + s(from_) + s(name) + u64(size) + s(hash_),
            {"id": id_, "from": from_, "name": name, "size": size, "hash": hash_.hex()})


def file_end(id_, tag, why, reason):
    return (u32(id_) + u32(tag) + u8(why) + s(reason),
            {"id": id_, "tag": tag, "why": why, "reason": reason})


VALID = []


def add(name, kind, built, basis="spec"):
    body, fields = built
    VALID.append(valid_case(name, kind, NAMES[kind], fields, body, basis))


# The eleven examples printed in PROTOCOL.md 6.14, first: the document shows their bytes.
add("file-offer", FILE_OFFER, file_offer(1, "bob", NAME, len(CONTENT), HASH))
add("file-offered", FILE_OFFERED, file_offered(1, 3))
add("file-incoming", FILE_INCOMING, file_incoming(3, "alice", NAME, len(CONTENT), HASH))
add("file-accept", FILE_ACCEPT, id_only(3))
add("file-accepted", FILE_ACCEPTED, id_only(3))
add("file-chunk", FILE_CHUNK, chunk(3, 0, CONTENT))
add("file-data", FILE_DATA, chunk(3, 0, CONTENT))
add("file-done", FILE_DONE, id_only(3))
add("file-end-done", FILE_END, file_end(3, 1, 1, ""))
add("file-cancel", FILE_CANCEL, file_cancel(3, "disk full"))
add("file-end-refused", FILE_END, file_end(0, 2, 8, "bob is not here"))
EXAMPLES = len(VALID)

# Client messages at the limits. FILE_OFFER's `to` and `name` are `str` on the wire: the
# server judges them, and refuses a bad one with FILE_END `refused`, not an ERROR (6.14), so
# only names that are valid file names are listed here.
add("file-offer-255-byte-name", FILE_OFFER, file_offer(2, "bob", NAME_255, 6, HASH))
add("file-offer-32-byte-to", FILE_OFFER, file_offer(0, NICK_32, NAME, 6, HASH))
# Any u32 is a tag and any u64 a size on the wire; a size this large is over any server's
# limit, so the server refuses the offer (FILE_END `refused`), which is content, not layout.
add("file-offer-u32-u64-max", FILE_OFFER, file_offer(U32_MAX, "bob", NAME, U64_MAX, HASH))
add("file-offer-empty-file", FILE_OFFER, file_offer(4, "bob", "empty", 0, EMPTY_HASH))
# Names the rules allow though a receiver would not write under them as they are (6.14).
add("file-offer-name-leading-dot", FILE_OFFER, file_offer(5, "bob", ".bashrc", 6, HASH))
add("file-offer-name-three-dots", FILE_OFFER, file_offer(6, "bob", "...", 6, HASH))
add("file-offer-name-utf8-spaces", FILE_OFFER,
    file_offer(7, "bob", " r\u00e9sum\u00e9 \u2014 2026 \U0001f600.pdf ", 6, HASH))
add("file-offer-name-lrm-u200e", FILE_OFFER, file_offer(8, "bob", "a\u200eb.txt", 6, HASH))
add("file-accept-u32-max", FILE_ACCEPT, id_only(U32_MAX))
add("file-cancel-empty-reason", FILE_CANCEL, file_cancel(3, ""))
add("file-cancel-256-byte-reason", FILE_CANCEL, file_cancel(U32_MAX, REASON_256))
add("file-chunk-16369-bytes", FILE_CHUNK, chunk(3, 0, DATA_MAX))
add("file-chunk-1-byte", FILE_CHUNK, chunk(3, 5, b"\n"))
add("file-chunk-u32-u64-max", FILE_CHUNK, chunk(U32_MAX, U64_MAX, b"\x00"))
add("file-done-u32-max", FILE_DONE, id_only(U32_MAX))
# Server messages at the limits.
add("file-offered-u32-max", FILE_OFFERED, file_offered(U32_MAX, U32_MAX))
add("file-offered-tag-0", FILE_OFFERED, file_offered(0, 1))
add("file-incoming-limits", FILE_INCOMING,
    file_incoming(U32_MAX, NICK_32, NAME_255, U64_MAX, HASH))
add("file-incoming-empty-file", FILE_INCOMING, file_incoming(1, "bob", "empty", 0, EMPTY_HASH))
add("file-incoming-name-leading-dot", FILE_INCOMING,
    file_incoming(2, "bob", ".bashrc", 6, HASH))
add("file-incoming-name-three-dots", FILE_INCOMING, file_incoming(2, "bob", "...", 6, HASH))
add("file-incoming-name-utf8-spaces", FILE_INCOMING,
    file_incoming(2, "bob", " r\u00e9sum\u00e9 \u2014 2026 \U0001f600.pdf ", 6, HASH))
# `from` is judged by the nick syntax only (8): `server` is a valid nick.
add("file-incoming-from-server", FILE_INCOMING, file_incoming(2, "server", NAME, 6, HASH))
add("file-accepted-u32-max", FILE_ACCEPTED, id_only(U32_MAX))
add("file-data-16369-bytes", FILE_DATA, chunk(3, 0, DATA_MAX))
add("file-data-u32-u64-max", FILE_DATA, chunk(U32_MAX, U64_MAX, b"\xff"))
# Every `why`, each as one side gets it (the sender's copy with its tag, the receiver's 0).
add("file-end-done-receiver", FILE_END, file_end(3, 0, 1, ""))
add("file-end-declined", FILE_END, file_end(3, 1, 2, "no thanks"))
add("file-end-sender-cancelled", FILE_END, file_end(3, 0, 3, ""))
add("file-end-receiver-cancelled", FILE_END, file_end(3, 1, 4, "hash does not match"))
add("file-end-expired", FILE_END, file_end(3, 1, 5, ""))
add("file-end-gone", FILE_END, file_end(3, 0, 6, ""))
add("file-end-broken", FILE_END, file_end(3, 1, 7, "chunk at the wrong offset"))
add("file-end-refused-muted", FILE_END, file_end(0, U32_MAX, 8, "you are muted"))
add("file-end-stalled", FILE_END, file_end(3, 1, 9, ""))
add("file-end-256-byte-reason", FILE_END, file_end(U32_MAX, U32_MAX, 4, REASON_256))

INVALID = []
# Names that break the file name rule of 6.14: a valid text (6.1) of at most 255 bytes, no `/`,
# no `\`, not `.` or `..`.
BAD_NAMES = [
    ("empty", ""),
    ("dot", "."),
    ("dot-dot", ".."),
    ("slash", "a/b"),
    ("slash-alone", "/"),
    ("parent-path", "../../etc/passwd"),
    ("backslash", "a\\b"),
    ("windows-path", "..\\..\\boot.ini"),
    ("control-esc", "x\x1b]0;owned\x07"),
    ("newline", "a\nb"),
    ("nul", "a\x00b"),
    ("del", "a\x7fb"),
    ("c1-85-nel", "a\u0085b"),
    ("bidi-u202e", "invoice\u202efdp.exe"),
    ("bidi-u2066", "a\u2066b"),
    ("256-bytes", NAME_255 + "x"),
    ("overlong-c0af", b"a\xc0\xafb"),
    ("truncated-utf8", b"a\xe2\x82"),
    ("surrogate", b"a\xed\xa0\x80"),
]
# Reasons a client closes on (6.1, 8): too long, or not a valid text.
BAD_REASONS = [
    ("257-bytes", REASON_256 + "x"),
    ("control-esc", "x\x1b[2J"),
    ("newline", "a\nb"),
    ("c1-9b-csi", "a\u009bb"),
    ("bidi-u202e", "a\u202eb"),
    ("overlong-c0af", b"a\xc0\xafb"),
    ("truncated-utf8", b"a\xe2\x82"),
]
# Nicks a client closes on (6.1).
BAD_NICKS = [("empty", ""), ("space", "a b"), ("33-bytes", NICK_32 + "x"), ("slash", "a/b")]
# Hashes of another length than 32 bytes: malformed in both directions (6.14).
BAD_HASHES = [("0-bytes", b""), ("31-bytes", HASH[:31]), ("33-bytes", HASH + b"\x00"),
              ("64-bytes", HASH + HASH)]
# Data that breaks the rule of 1 to 16369 bytes. The longer one makes a message of 16385
# bytes, more than a record carries: only a decoder given it outside a record meets it.
BAD_DATA = [("empty", b""), ("16370-bytes", DATA_MAX + b"\x00")]

# FILE_OFFERED: tag, id.
k = bytes([FILE_OFFERED])
INVALID += [
    reject("file-offered-missing", k),
    reject("file-offered-short-tag", k + b"\x00\x00\x01"),
    reject("file-offered-no-id", k + u32(1)),
    reject("file-offered-short-id", k + u32(1) + b"\x00\x00\x03"),
    reject("file-offered-trailing-byte", k + u32(1) + u32(3) + b"\x00"),
]
# FILE_INCOMING: id, from, name, size, hash.
k = bytes([FILE_INCOMING])
INVALID.append(reject("file-incoming-missing", k))
INVALID += [reject("file-incoming-name-" + n, k + u32(3) + s("alice") + s(x) + u64(6) + s(HASH))
            for n, x in BAD_NAMES]
INVALID += [reject("file-incoming-hash-" + n, k + u32(3) + s("alice") + s(NAME) + u64(6) + s(x))
            for n, x in BAD_HASHES]
INVALID += [reject("file-incoming-from-" + n, k + u32(3) + s(x) + s(NAME) + u64(6) + s(HASH))
            for n, x in BAD_NICKS]
INVALID += [
    reject("file-incoming-short-id", k + b"\x00\x00\x03"),
    reject("file-incoming-no-from", k + u32(3)),
    reject("file-incoming-from-length-beyond-end", k + u32(3) + struct.pack(">H", 6) + b"alice"),
    reject("file-incoming-no-name", k + u32(3) + s("alice")),
    reject("file-incoming-name-length-beyond-end",
           k + u32(3) + s("alice") + struct.pack(">H", 10) + NAME.encode()),
    reject("file-incoming-no-size", k + u32(3) + s("alice") + s(NAME)),
    reject("file-incoming-short-size", k + u32(3) + s("alice") + s(NAME) + b"\x00" * 7),
    reject("file-incoming-no-hash", k + u32(3) + s("alice") + s(NAME) + u64(6)),
    reject("file-incoming-hash-length-beyond-end",
           k + u32(3) + s("alice") + s(NAME) + u64(6) + struct.pack(">H", 32) + HASH[:31]),
    reject("file-incoming-trailing-byte",
           k + u32(3) + s("alice") + s(NAME) + u64(6) + s(HASH) + b"\x00"),
]
# FILE_ACCEPTED: id.
k = bytes([FILE_ACCEPTED])
INVALID += [
    reject("file-accepted-missing", k),
    reject("file-accepted-short-id", k + b"\x00\x00\x03"),
    reject("file-accepted-trailing-byte", k + u32(3) + b"\x00"),
]
# FILE_DATA: id, offset, data.
k = bytes([FILE_DATA])
INVALID += [reject("file-data-data-" + n, k + u32(3) + u64(0) + s(x)) for n, x in BAD_DATA]
INVALID += [
    reject("file-data-missing", k),
    reject("file-data-short-id", k + b"\x00\x00\x03"),
    reject("file-data-no-offset", k + u32(3)),
    reject("file-data-short-offset", k + u32(3) + b"\x00" * 7),
    reject("file-data-no-data", k + u32(3) + u64(0)),
    reject("file-data-short-length", k + u32(3) + u64(0) + b"\x00"),
    reject("file-data-data-length-beyond-end",
           k + u32(3) + u64(0) + struct.pack(">H", 7) + CONTENT),
    reject("file-data-trailing-byte", k + u32(3) + u64(0) + s(CONTENT) + b"\x00"),
]
# FILE_END: id, tag, why, reason.
k = bytes([FILE_END])
INVALID += [reject("file-end-reason-" + n, k + u32(3) + u32(1) + u8(4) + s(x))
            for n, x in BAD_REASONS]
INVALID += [
    reject("file-end-missing", k),
    reject("file-end-short-id", k + b"\x00\x00\x03"),
    reject("file-end-no-tag", k + u32(3)),
    reject("file-end-short-tag", k + u32(3) + b"\x00\x00\x01"),
    reject("file-end-no-why", k + u32(3) + u32(1)),
    reject("file-end-why-0", k + u32(3) + u32(1) + u8(0) + s("")),
    reject("file-end-why-10", k + u32(3) + u32(1) + u8(10) + s("")),
    reject("file-end-why-ff", k + u32(3) + u32(1) + u8(0xFF) + s("")),
    reject("file-end-no-reason", k + u32(3) + u32(1) + u8(1)),
    reject("file-end-reason-length-beyond-end",
           k + u32(3) + u32(1) + u8(4) + struct.pack(">H", 10) + b"disk full"),
    reject("file-end-trailing-byte", k + u32(3) + u32(1) + u8(1) + s("") + b"\x00"),
]
# The ends of the range kept for file transfer stay unknown to a client, the server's and the
# client's halves alike: skipped.
INVALID += [ignore("files-unknown-server-kind-%02x" % kind, bytes([kind]) + u32(3))
            for kind in (0x90, 0x9F, 0x10, 0x1F)]

# Client messages, with the ERROR a joined client gets. Only layout (ERROR 1, fatal) and kind
# (ERROR 8) are listed: every other answer to a well-formed file message depends on the
# transfers the server holds (ERROR 17, then FILE_CANCEL's reason, ERROR 7) or on its limits
# (FILE_END `refused`), which this format cannot say, and ERROR 2 before JOIN on the sender's
# state; `conformance_test` checks the last live.
k = bytes([FILE_OFFER])
INVALID += [refused("file-offer-hash-" + n, k + u32(1) + s("bob") + s(NAME) + u64(6) + s(x),
                    MALFORMED, True) for n, x in BAD_HASHES]
INVALID += [
    refused("file-offer-missing", k, MALFORMED, True),
    refused("file-offer-short-tag", k + b"\x00\x00\x01", MALFORMED, True),
    refused("file-offer-no-to", k + u32(1), MALFORMED, True),
    refused("file-offer-to-length-beyond-end", k + u32(1) + struct.pack(">H", 4) + b"bob",
            MALFORMED, True),
    refused("file-offer-no-name", k + u32(1) + s("bob"), MALFORMED, True),
    refused("file-offer-name-length-beyond-end",
            k + u32(1) + s("bob") + struct.pack(">H", 10) + NAME.encode(), MALFORMED, True),
    refused("file-offer-no-size", k + u32(1) + s("bob") + s(NAME), MALFORMED, True),
    refused("file-offer-short-size", k + u32(1) + s("bob") + s(NAME) + b"\x00" * 7, MALFORMED,
            True),
    refused("file-offer-no-hash", k + u32(1) + s("bob") + s(NAME) + u64(6), MALFORMED, True),
    refused("file-offer-hash-length-beyond-end",
            k + u32(1) + s("bob") + s(NAME) + u64(6) + struct.pack(">H", 32) + HASH[:31],
            MALFORMED, True),
    refused("file-offer-trailing-byte", k + u32(1) + s("bob") + s(NAME) + u64(6) + s(HASH)
            + b"\x00", MALFORMED, True),
    # Layout comes before content: a bad name and recipient do not change the answer.
    refused("file-offer-hash-31-bytes-bad-name-and-to",
            k + u32(1) + s("a b") + s("../x") + u64(6) + s(HASH[:31]), MALFORMED, True),
]
for kind, name in ((FILE_ACCEPT, "file-accept"), (FILE_DONE, "file-done")):
    k = bytes([kind])
    INVALID += [
        refused(name + "-missing", k, MALFORMED, True),
        refused(name + "-short-id", k + b"\x00\x00\x03", MALFORMED, True),
        refused(name + "-trailing-byte", k + u32(3) + b"\x00", MALFORMED, True),
    ]
k = bytes([FILE_CANCEL])
INVALID += [
    refused("file-cancel-missing", k, MALFORMED, True),
    refused("file-cancel-short-id", k + b"\x00\x00\x03", MALFORMED, True),
    refused("file-cancel-no-reason", k + u32(3), MALFORMED, True),
    refused("file-cancel-short-length", k + u32(3) + b"\x00", MALFORMED, True),
    refused("file-cancel-reason-length-beyond-end",
            k + u32(3) + struct.pack(">H", 10) + b"disk full", MALFORMED, True),
    refused("file-cancel-trailing-byte", k + u32(3) + s("disk full") + b"\x00", MALFORMED, True),
]
k = bytes([FILE_CHUNK])
INVALID += [refused("file-chunk-data-" + n, k + u32(3) + u64(0) + s(x), MALFORMED, True)
            for n, x in BAD_DATA]
INVALID += [
    refused("file-chunk-missing", k, MALFORMED, True),
    refused("file-chunk-short-id", k + b"\x00\x00\x03", MALFORMED, True),
    refused("file-chunk-no-offset", k + u32(3), MALFORMED, True),
    refused("file-chunk-short-offset", k + u32(3) + b"\x00" * 7, MALFORMED, True),
    refused("file-chunk-no-data", k + u32(3) + u64(0), MALFORMED, True),
    refused("file-chunk-short-length", k + u32(3) + u64(0) + b"\x00", MALFORMED, True),
    refused("file-chunk-data-length-beyond-end",
            k + u32(3) + u64(0) + struct.pack(">H", 7) + CONTENT, MALFORMED, True),
    refused("file-chunk-trailing-byte", k + u32(3) + u64(0) + s(CONTENT) + b"\x00", MALFORMED,
            True),
]
# The ends of the range stay unknown kinds, and a client that sends one of the server's file
# messages gets ERROR 8 (6.5), whatever follows the kind byte.
INVALID += [refused("files-unknown-kind-%02x" % kind, bytes([kind]) + u32(3), UNKNOWN_KIND,
                    False) for kind in (0x10, 0x1F, 0x90, 0x9F)]
for name, kind, built in [("file-offered", FILE_OFFERED, file_offered(1, 3)),
                          ("file-incoming", FILE_INCOMING,
                           file_incoming(3, "alice", NAME, len(CONTENT), HASH)),
                          ("file-accepted", FILE_ACCEPTED, id_only(3)),
                          ("file-data", FILE_DATA, chunk(3, 0, CONTENT)),
                          ("file-end", FILE_END, file_end(3, 1, 1, ""))]:
    INVALID.append(refused(name + "-from-a-client", bytes([kind]) + built[0], UNKNOWN_KIND,
                           False))

# The document and the vectors say the same thing, or neither is written: the SHA-256 the text
# gives for its example file (`<hash>` in the examples) must be hashlib's, and the examples the
# bytes built here.
DOC = protocol_text()
MARKER = "tests/vectors/securechat-files/messages.json`:"
stated_hash = re.findall(r"whose SHA-256 is\s+`([0-9a-f]{64})`", DOC[:DOC.index(MARKER)])[-1]
if stated_hash != HASH.hex():
    sys.exit("PROTOCOL.md 6.14 gives %s as the SHA-256 of its example file, hashlib %s"
             % (stated_hash, HASH.hex()))
check_examples(printed_examples(DOC.replace("<hash>", stated_hash), MARKER), VALID[:EXAMPLES],
               "6.14")
write_messages("securechat v1, file transfer (PROTOCOL.md 6.14)", VALID, INVALID)
