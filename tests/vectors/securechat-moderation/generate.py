#!/usr/bin/env python3
"""Writes messages.json: the project's own vectors for moderation.

The bytes are built here from PROTOCOL.md 6.1, 6.5 and 6.12 alone (kind u8, then each field;
a `str` is a u16 big-endian length and its bytes), with Python's struct module (through
../vectorlib.py) and nothing from the C++ code, so that the conformance test checks the
implementation against a second reading of the document. The output has the layout of
securechat-v1/messages.json (see its README) and is the same byte for byte every time:

    python3 tests/vectors/securechat-moderation/generate.py > \
        tests/vectors/securechat-moderation/messages.json
"""

import os
import struct
import sys

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vectorlib import (BAD_TEXT, MALFORMED, MAX_TEXT, refused, s,  # noqa: E402
                       valid_case, write_messages)

MODERATE = 0x32


def valid(name, command):
    return valid_case(name, MODERATE, "MODERATE", {"command": command}, s(command))


# The longest command: 4096 bytes, a line that is not one of the six commands, ending with a
# 3-byte character so that no byte is cut.
LONGEST = "/" + "x" * (MAX_TEXT - 4) + "\u20ac"
assert len(LONGEST.encode()) == MAX_TEXT

# The example printed in PROTOCOL.md 6.12, first: the document shows its bytes.
VALID = [valid("moderate-ban", "/ban troll 1d go away")]
# Each of the six command words (6.12), naming nobody the server knows, so that only the
# sender hears of it.
VALID += [
    valid("moderate-kick", "/kick troll be nice"),
    valid("moderate-ban-for-good", "/ban troll"),
    valid("moderate-unban", "/unban troll"),
    valid("moderate-mute", "/mute troll 10m flooding"),
    valid("moderate-unmute", "/unmute troll"),
    valid("moderate-bans", "/bans"),
    # A command word is matched in any letter case.
    valid("moderate-bans-upper-case", "/BANS"),
    # A line that is not a command is valid on the wire: a NOTICE says it is not one.
    valid("moderate-not-a-command", "hello"),
    valid("moderate-utf8", "/mute troll 1h gr\u00fc\u00dfe \u2014 \U0001f600"),
    valid("moderate-4096-bytes", LONGEST),
]

m = bytes([MODERATE])
INVALID = [
    # The layout is one `str` and nothing more: ERROR 1, fatal (7.1, 3).
    refused("moderate-missing", m, MALFORMED, True),
    refused("moderate-short-length", m + b"\x00", MALFORMED, True),
    refused("moderate-length-beyond-end", m + struct.pack(">H", 6) + b"/bans", MALFORMED, True),
    refused("moderate-length-ffff", m + b"\xff\xff" + b"/bans", MALFORMED, True),
    refused("moderate-trailing-byte", m + s("/bans") + b"\x00", MALFORMED, True),
    refused("moderate-two-commands", m + s("/bans") + s("/bans"), MALFORMED, True),
    # Well formed, but not a valid text: ERROR 7 from an operator (7.1, 6).
    refused("moderate-empty", m + s(""), BAD_TEXT, False),
    refused("moderate-4097-bytes", m + s("/" + "x" * MAX_TEXT), BAD_TEXT, False),
    refused("moderate-bad-utf8-ff", m + s(b"/ban troll \xff"), BAD_TEXT, False),
    refused("moderate-overlong-c0af", m + s(b"/ban troll \xc0\xaf"), BAD_TEXT, False),
    refused("moderate-surrogate-eda080", m + s(b"/ban troll \xed\xa0\x80"), BAD_TEXT, False),
    refused("moderate-truncated-utf8", m + s(b"/ban troll \xe2\x82"), BAD_TEXT, False),
    refused("moderate-control-esc", m + s("/ban troll \x1b[2J"), BAD_TEXT, False),
    refused("moderate-newline", m + s("/kick troll\n/ban bob"), BAD_TEXT, False),
    refused("moderate-nul", m + s("/bans\x00"), BAD_TEXT, False),
    refused("moderate-c1-9b-csi", m + s("/ban troll \u009b"), BAD_TEXT, False),
    refused("moderate-bidi-u202e", m + s("/ban troll \u202e"), BAD_TEXT, False),
]

write_messages("securechat v1, moderation (PROTOCOL.md 6.12)", VALID, INVALID)
