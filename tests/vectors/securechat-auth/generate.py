#!/usr/bin/env python3
"""Writes messages.json and auth.json: the project's own vectors for authentication.

Built from PROTOCOL.md 6.9 alone, with Python's struct (through ../vectorlib.py) and hashlib
and the `cryptography` package's Ed25519 (nothing from the C++ code), so that the conformance
test checks the implementation against a second reading of the document. messages.json has the
layout of securechat-v1/messages.json (see its README); auth.json gives, for a key seed and a
transcript hash, every step of an AUTH. Both are written next to this script. The output is the
same byte for byte every time (Ed25519 signatures are deterministic):

    cd tests/vectors/securechat-auth && python3 generate.py
"""

import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# vectorlib.py, the helpers the generators here share, is in the folder above this one: put it
# on the import path so that the script runs from any folder, and leave no __pycache__ behind.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from vectorlib import (MALFORMED, UNKNOWN_KIND, ignore, refused, reject, s, u32,  # noqa: E402
                       valid_case, write_json, write_messages)

AUTH = 0x21
AUTH_OK = 0xA1


def ssh_string(raw):
    """An SSH `string`: u32 big-endian length, then the bytes."""
    raw = raw.encode("ascii") if isinstance(raw, str) else raw
    return u32(len(raw)) + raw


def signed_data(th):
    message = b"securechat v1 client auth" + th
    return (b"SSHSIG" + ssh_string("securechat") + ssh_string(b"") + ssh_string("sha512") +
            ssh_string(hashlib.sha512(message).digest()))


def fingerprint(pub):
    blob = ssh_string("ssh-ed25519") + ssh_string(pub)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def auth_case(name, seed_hex, th_hex):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    th = bytes.fromhex(th_hex)
    data = signed_data(th)
    sig = key.sign(data)
    return {"name": name, "seed": seed_hex, "public_key": pub.hex(),
            "fingerprint": fingerprint(pub), "th": th_hex, "signed_data": data.hex(),
            "signature": sig.hex(), "message": (bytes([AUTH]) + s(pub) + s(sig)).hex()}


CASES = [
    # RFC 8032 7.1 TEST 1's key, on the connection of PROTOCOL.md 11's worked example.
    auth_case("rfc8032-test1-key-worked-example-th",
              "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
              "6a87afaae2b50755193dd829c9237b7ea1fc0384348e4c785ea5be0421d9a786"),
    auth_case("seed-01-th-00", "01" * 32, "00" * 32),
    auth_case("seed-01-th-ff", "01" * 32, "ff" * 32),
]


VALID = [
    valid_case("auth-ok-member", AUTH_OK, "AUTH_OK", {"nick": "alice"}, s("alice")),
    valid_case("auth-ok-guest", AUTH_OK, "AUTH_OK", {"nick": ""}, s("")),
]

KEY = bytes(range(32))
SIG = bytes(range(64))
INVALID = [
    # AUTH's key is exactly 32 bytes and its signature exactly 64: anything else is malformed.
    refused("auth-missing-fields", bytes([AUTH]), MALFORMED, True),
    refused("auth-key-31", bytes([AUTH]) + s(KEY[:31]) + s(SIG), MALFORMED, True),
    refused("auth-key-33", bytes([AUTH]) + s(KEY + b"\x00") + s(SIG), MALFORMED, True),
    refused("auth-sig-63", bytes([AUTH]) + s(KEY) + s(SIG[:63]), MALFORMED, True),
    refused("auth-sig-65", bytes([AUTH]) + s(KEY) + s(SIG + b"\x00"), MALFORMED, True),
    refused("auth-missing-sig", bytes([AUTH]) + s(KEY), MALFORMED, True),
    refused("auth-trailing-byte", bytes([AUTH]) + s(KEY) + s(SIG) + b"\x00", MALFORMED, True),
    # The ends of the range reserved for authentication are still unknown kinds, and so is
    # the server's kind when a client sends it.
    refused("auth-unknown-kind-20", bytes([0x20]) + s(KEY) + s(SIG), UNKNOWN_KIND, False),
    refused("auth-unknown-kind-2f", bytes([0x2F]), UNKNOWN_KIND, False),
    refused("auth-ok-from-a-client", bytes([AUTH_OK]) + s("alice"), UNKNOWN_KIND, False),
    # AUTH_OK's nick is empty or a valid nick, and nothing follows it.
    reject("auth-ok-missing", bytes([AUTH_OK])),
    reject("auth-ok-bad-nick", bytes([AUTH_OK]) + s("a b")),
    reject("auth-ok-33-chars", bytes([AUTH_OK]) + s("a" * 33)),
    reject("auth-ok-trailing-byte", bytes([AUTH_OK]) + s("alice") + b"\x00"),
    # A client skips the server kinds around it that it does not know.
    ignore("auth-unknown-server-kind-a0", bytes([0xA0]) + s("bob")),
]


# Both files are written next to this script, wherever it is run from.
with open(os.path.join(HERE, "messages.json"), "w", encoding="utf-8") as f:
    write_messages("securechat v1, authentication messages (PROTOCOL.md 6.9)", VALID, INVALID, f)
# Weak keys (PROTOCOL.md 6.9): the points of small order in either sign, and encodings of y
# of p or more. Under a point of small order the signature R = identity, S = 0 verifies for
# every message in some libraries; AUTH with any of these keys must be refused.
SMALL_ORDER = [
    "00" * 32,
    "01" + "00" * 31,
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ec" + "ff" * 30 + "7f",
    "ed" + "ff" * 30 + "7f",
    "ee" + "ff" * 30 + "7f",
]
WEAK = []
for k in SMALL_ORDER:
    raw = bytearray.fromhex(k)
    WEAK.append(raw.hex())
    raw[31] |= 0x80
    WEAK.append(raw.hex())
WEAK += ["f0" + "ff" * 30 + "7f", "ff" * 31 + "7f"]  # y = p + 3, y = 2^255 - 1
UNIVERSAL_SIGNATURE = ("01" + "00" * 31) + "00" * 32

with open(os.path.join(HERE, "auth.json"), "w", encoding="utf-8") as f:
    write_json({"protocol": "securechat v1, AUTH signatures (PROTOCOL.md 6.9)",
                "cases": CASES,
                "weak_keys": [{"name": "weak-%02d" % i, "key": k,
                               "signature": UNIVERSAL_SIGNATURE, "th": "00" * 32}
                              for i, k in enumerate(WEAK)]}, f)
