#!/usr/bin/env python3
"""Writes messages.json and auth.json: the project's own vectors for authentication.

Built from PROTOCOL.md 6.9 alone, with Python's struct and hashlib and the `cryptography`
package's Ed25519 (nothing from the C++ code), so that the conformance test checks the
implementation against a second reading of the document. messages.json has the layout of
securechat-v1/messages.json (see its README); auth.json gives, for a key seed and a transcript
hash, every step of an AUTH. The output is the same byte for byte every time (Ed25519
signatures are deterministic):

    cd tests/vectors/securechat-auth && python3 generate.py
"""

import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

AUTH = 0x21
AUTH_OK = 0xA1
MALFORMED = 1
UNKNOWN_KIND = 8


def s(raw):
    """A `str`: u16 big-endian length, then the bytes (UTF-8 for text)."""
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    return struct.pack(">H", len(raw)) + raw


def ssh_string(raw):
    """An SSH `string`: u32 big-endian length, then the bytes."""
    raw = raw.encode("ascii") if isinstance(raw, str) else raw
    return struct.pack(">I", len(raw)) + raw


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


def valid(name, kind, kind_name, fields, body):
    return {"name": name, "direction": "s2c", "kind": kind, "kind_name": kind_name,
            "fields": fields, "bytes": (bytes([kind]) + body).hex(), "basis": "spec"}


def reject_s2c(name, raw):
    """A server message a client must close on."""
    return {"name": name, "direction": "s2c", "bytes": raw.hex(), "verdict": "reject",
            "basis": "spec"}


def reject_c2s(name, raw, code, fatal):
    return {"name": name, "direction": "c2s", "bytes": raw.hex(), "verdict": "reject",
            "basis": "spec", "error_code": code, "fatal": fatal}


VALID = [
    valid("auth-ok-member", AUTH_OK, "AUTH_OK", {"nick": "alice"}, s("alice")),
    valid("auth-ok-guest", AUTH_OK, "AUTH_OK", {"nick": ""}, s("")),
]

KEY = bytes(range(32))
SIG = bytes(range(64))
INVALID = [
    # AUTH's key is exactly 32 bytes and its signature exactly 64: anything else is malformed.
    reject_c2s("auth-missing-fields", bytes([AUTH]), MALFORMED, True),
    reject_c2s("auth-key-31", bytes([AUTH]) + s(KEY[:31]) + s(SIG), MALFORMED, True),
    reject_c2s("auth-key-33", bytes([AUTH]) + s(KEY + b"\x00") + s(SIG), MALFORMED, True),
    reject_c2s("auth-sig-63", bytes([AUTH]) + s(KEY) + s(SIG[:63]), MALFORMED, True),
    reject_c2s("auth-sig-65", bytes([AUTH]) + s(KEY) + s(SIG + b"\x00"), MALFORMED, True),
    reject_c2s("auth-missing-sig", bytes([AUTH]) + s(KEY), MALFORMED, True),
    reject_c2s("auth-trailing-byte", bytes([AUTH]) + s(KEY) + s(SIG) + b"\x00", MALFORMED, True),
    # The ends of the range reserved for authentication are still unknown kinds, and so is
    # the server's kind when a client sends it.
    reject_c2s("auth-unknown-kind-20", bytes([0x20]) + s(KEY) + s(SIG), UNKNOWN_KIND, False),
    reject_c2s("auth-unknown-kind-2f", bytes([0x2F]), UNKNOWN_KIND, False),
    reject_c2s("auth-ok-from-a-client", bytes([AUTH_OK]) + s("alice"), UNKNOWN_KIND, False),
    # AUTH_OK's nick is empty or a valid nick, and nothing follows it.
    reject_s2c("auth-ok-missing", bytes([AUTH_OK])),
    reject_s2c("auth-ok-bad-nick", bytes([AUTH_OK]) + s("a b")),
    reject_s2c("auth-ok-33-chars", bytes([AUTH_OK]) + s("a" * 33)),
    reject_s2c("auth-ok-trailing-byte", bytes([AUTH_OK]) + s("alice") + b"\x00"),
    # A client skips the server kinds around it that it does not know.
    {"name": "auth-unknown-server-kind-a0", "direction": "s2c", "bytes": "a00003626f62",
     "verdict": "ignore", "basis": "spec"},
]


def write(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


write("messages.json", {"protocol": "securechat v1, authentication messages (PROTOCOL.md 6.9)",
                        "valid": VALID, "invalid": INVALID})
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

write("auth.json", {"protocol": "securechat v1, AUTH signatures (PROTOCOL.md 6.9)",
                    "cases": CASES,
                    "weak_keys": [{"name": "weak-%02d" % i, "key": k,
                                   "signature": UNIVERSAL_SIGNATURE, "th": "00" * 32}
                                  for i, k in enumerate(WEAK)]})
