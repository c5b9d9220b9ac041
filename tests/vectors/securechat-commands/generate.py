#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for the everyday commands.

The bytes are built here from PROTOCOL.md 6.1 and 6.10 alone (kind u8, then each field; a
`str` is a u16 big-endian length and its bytes, a `u64` eight bytes big-endian, a `u8` one
byte), with Python's struct module (through ../vectorlib.py) and nothing from the C++ code, so
that the conformance test checks the implementation against a second reading of the document.
The output has the layout of securechat-v1/messages.json (see its README) and is the same byte
for byte every time:

    python3 tests/vectors/securechat-commands/generate.py > \
        tests/vectors/securechat-commands/messages.json
"""

import os
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (BAD_TEXT, INVALID_NICK, MALFORMED, MAX_REASON, NICK_32,  # noqa: E402
                       NO_SUCH_USER, UNKNOWN_KIND, U64_MAX, ignore, refused, reject, s, u64,
                       valid_case, write_messages)

ACTION = 0x09
AWAY = 0x0A
WHOIS = 0x0B
QUIT = 0x0C
ACTION_CHAT = 0x8C
WHOIS_REPLY = 0x8D
NAMES = {ACTION: "ACTION", AWAY: "AWAY", WHOIS: "WHOIS", QUIT: "QUIT",
         ACTION_CHAT: "ACTION_CHAT", WHOIS_REPLY: "WHOIS_REPLY"}


def valid(name, kind, fields, body):
    return valid_case(name, kind, NAMES[kind], fields, body)


# RFC 8032 section 7.1, TEST 1: a public key to stand for a user key.
KEY = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
REASON_256 = "r" * MAX_REASON
TIME = 1700000000123


def whois_reply(nick, online, idle, away, key, member):
    body = s(nick) + u64(online) + u64(idle) + s(away) + s(key) + bytes([member])
    return body, {"nick": nick, "online_ms": online, "idle_ms": idle, "away": away,
                  "key": key.hex(), "member": member}


VALID = [
    valid("action", ACTION, {"text": "waves"}, s("waves")),
    valid("action-utf8", ACTION, {"text": "tanzt \u00fcber den Tisch"},
          s("tanzt \u00fcber den Tisch")),
    valid("away", AWAY, {"reason": "lunch, back at 2"}, s("lunch, back at 2")),
    valid("away-256-bytes", AWAY, {"reason": REASON_256}, s(REASON_256)),
    valid("away-empty-is-back", AWAY, {"reason": ""}, s("")),
    valid("whois", WHOIS, {"nick": "bob"}, s("bob")),
    valid("whois-other-case", WHOIS, {"nick": "BOB"}, s("BOB")),
    valid("quit", QUIT, {"reason": "gone fishing"}, s("gone fishing")),
    valid("quit-empty", QUIT, {"reason": ""}, s("")),
    # A reason the server will not repeat is still a QUIT: the client leaves, without it.
    valid("quit-reason-with-escape", QUIT, {"reason": "\x1b[2Jbye"}, s("\x1b[2Jbye")),
    valid("quit-reason-257-bytes", QUIT, {"reason": "r" * 257}, s("r" * 257)),
    valid("quit-reason-256-bytes", QUIT, {"reason": REASON_256}, s(REASON_256)),
    valid("action-chat", ACTION_CHAT, {"from": "alice", "time_ms": TIME, "text": "waves"},
          s("alice") + u64(TIME) + s("waves")),
    valid("action-chat-time-max", ACTION_CHAT,
          {"from": NICK_32, "time_ms": U64_MAX, "text": "x"},
          s(NICK_32) + u64(U64_MAX) + s("x")),
]
body, fields = whois_reply("bob", 3723000, 300000, "", b"", 0)
VALID.append(valid("whois-reply-guest", WHOIS_REPLY, fields, body))
body, fields = whois_reply("alice", 0, 0, "lunch", KEY, 1)
VALID.append(valid("whois-reply-member-away", WHOIS_REPLY, fields, body))
body, fields = whois_reply("carol", U64_MAX, U64_MAX, REASON_256, KEY, 0)
VALID.append(valid("whois-reply-guest-key-limits", WHOIS_REPLY, fields, body))

INVALID = []
# Server messages a client closes on.
ac = bytes([ACTION_CHAT])
INVALID += [
    reject("action-chat-missing", ac),
    reject("action-chat-no-time", ac + s("alice")),
    reject("action-chat-short-time", ac + s("alice") + b"\x00" * 7),
    reject("action-chat-no-text", ac + s("alice") + u64(TIME)),
    reject("action-chat-empty-text", ac + s("alice") + u64(TIME) + s("")),
    reject("action-chat-bad-nick", ac + s("a b") + u64(TIME) + s("waves")),
    reject("action-chat-control-in-text", ac + s("alice") + u64(TIME) + s("x\x1b[2J")),
    reject("action-chat-newline-in-text", ac + s("alice") + u64(TIME) + s("a\nb")),
    reject("action-chat-trailing-byte", ac + s("alice") + u64(TIME) + s("waves") + b"\x00"),
]
wr = bytes([WHOIS_REPLY])
head = s("bob") + u64(1) + u64(2)
INVALID += [
    reject("whois-reply-missing", wr),
    reject("whois-reply-bad-nick", wr + s("") + u64(1) + u64(2) + s("") + s("") + b"\x00"),
    reject("whois-reply-no-idle", wr + s("bob") + u64(1)),
    reject("whois-reply-away-257-bytes", wr + head + s("r" * 257) + s("") + b"\x00"),
    reject("whois-reply-away-control", wr + head + s("a\x07") + s("") + b"\x00"),
    reject("whois-reply-key-31-bytes", wr + head + s("") + s(KEY[:31]) + b"\x00"),
    reject("whois-reply-key-33-bytes", wr + head + s("") + s(KEY + b"\x00") + b"\x00"),
    reject("whois-reply-member-2", wr + head + s("") + s(KEY) + b"\x02"),
    reject("whois-reply-no-member", wr + head + s("") + s(KEY)),
    reject("whois-reply-trailing-byte", wr + head + s("") + s(KEY) + b"\x01\x00"),
    # The kind after them is still unknown to a client: skipped.
    ignore("unknown-server-kind-8e", bytes([0x8E]) + s("bob")),
]
# Client messages the server refuses, the connection going on unless the error is fatal.
INVALID += [
    refused("action-empty-text", bytes([ACTION]) + s(""), BAD_TEXT, False),
    refused("action-control-in-text", bytes([ACTION]) + s("x\x1b]0;t\x07"), BAD_TEXT, False),
    refused("action-missing", bytes([ACTION]), MALFORMED, True),
    refused("action-trailing-byte", bytes([ACTION]) + s("waves") + b"\x00", MALFORMED, True),
    refused("away-257-bytes", bytes([AWAY]) + s("r" * 257), BAD_TEXT, False),
    refused("away-newline", bytes([AWAY]) + s("a\nb"), BAD_TEXT, False),
    refused("away-missing", bytes([AWAY]), MALFORMED, True),
    refused("whois-bad-nick", bytes([WHOIS]) + s("a b"), INVALID_NICK, False),
    refused("whois-empty", bytes([WHOIS]) + s(""), INVALID_NICK, False),
    refused("whois-no-such-user", bytes([WHOIS]) + s("carol"), NO_SUCH_USER, False),
    refused("whois-server", bytes([WHOIS]) + s("server"), NO_SUCH_USER, False),
    refused("whois-trailing-byte", bytes([WHOIS]) + s("bob") + b"\x00", MALFORMED, True),
    refused("quit-missing", bytes([QUIT]), MALFORMED, True),
    refused("quit-trailing-byte", bytes([QUIT]) + s("") + b"\x00", MALFORMED, True),
    # The next client kind is still unknown to a server.
    refused("unknown-kind-0d", bytes([0x0D]) + s("x"), UNKNOWN_KIND, False),
]
# They are server kinds: a client that sends one gets ERROR 8, and the connection goes on.
for kind in (ACTION_CHAT, WHOIS_REPLY):
    INVALID.append(refused("unknown-kind-%02x" % kind, bytes([kind]) + s("alice"),
                           UNKNOWN_KIND, False))

write_messages("securechat v1, everyday commands (PROTOCOL.md 6.10)", VALID, INVALID)
