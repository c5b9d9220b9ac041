#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/seed-* from the conformance vectors
(tests/vectors/securechat-v1/*.json, and the project's own messages.json of
securechat-membership, -auth, -commands, -history, -moderation, -rooms and -files for the
message target), the test keys and hand-written edge cases.

Each seed is laid out as the target's comment says (the fuzz/<target>_fuzzer.cc header). The
script is deterministic except for the pem seeds made with the openssl command (encrypted and
odd keys), which are only written when missing. Run it from anywhere:

    fuzz/make_seeds.py          # (re)writes every seed-* file; other corpus files are kept
"""

import base64
import hashlib
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors", "securechat-v1")
KEYS = os.path.join(ROOT, "tests", "keys")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")

PEM_PASSPHRASE = "securechat fuzz"  # pem_fuzzer.cc: kSeedPassphrase


def load(name, vectors=VECTORS):
    with open(os.path.join(vectors, name)) as f:
        return json.load(f)


def h(s):
    return bytes.fromhex(s)


def u8(v):
    return struct.pack(">B", v)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def chunk(b):
    if isinstance(b, str):
        b = b.encode()
    return u16(len(b)) + b


written = {}


def seed(target, name, data):
    path = os.path.join(CORPUS, target)
    os.makedirs(path, exist_ok=True)
    fname = "seed-" + name
    assert (target, fname) not in written, (target, fname)
    written[(target, fname)] = len(data)
    with open(os.path.join(path, fname), "wb") as f:
        f.write(data)


def frame(ftype, body):
    return u8(ftype) + b"\x00" + u16(len(body)) + body


HS = load("handshake.json")
REC = load("records.json")
FR = load("frames.json")
MSG = load("messages.json")
# The project's own message cases (PROTOCOL.md 6.8), in the same format.
MEMBERSHIP = load("messages.json", os.path.join(ROOT, "tests", "vectors", "securechat-membership"))
# ... and for authentication (PROTOCOL.md 6.9).
AUTH_DIR = os.path.join(ROOT, "tests", "vectors", "securechat-auth")
AUTH_MSG = load("messages.json", AUTH_DIR)
AUTH_CASES = load("auth.json", AUTH_DIR)
# ... and for the everyday commands (PROTOCOL.md 6.10).
COMMANDS = load("messages.json", os.path.join(ROOT, "tests", "vectors", "securechat-commands"))
# ... and for history (PROTOCOL.md 6.11).
HISTORY = load("messages.json", os.path.join(ROOT, "tests", "vectors", "securechat-history"))
# ... and for moderation (PROTOCOL.md 6.12).
MODERATION = load("messages.json",
                  os.path.join(ROOT, "tests", "vectors", "securechat-moderation"))
# ... and for rooms (PROTOCOL.md 6.13).
ROOMS = load("messages.json", os.path.join(ROOT, "tests", "vectors", "securechat-rooms"))
# ... and for file transfer (PROTOCOL.md 6.14).
FILES = load("messages.json", os.path.join(ROOT, "tests", "vectors", "securechat-files"))
C2S = REC["sequences"][0]
S2C = REC["sequences"][1]
assert C2S["direction"] == "c2s" and S2C["direction"] == "s2c"


# --- frame: n u8, n u16 cuts, stream ------------------------------------------------------


def frame_seeds():
    def stream_seed(name, stream, cuts=()):
        seed("frame", name, u8(len(cuts)) + b"".join(u16(c) for c in cuts) + stream)

    for c in FR["cases"]:
        hdr = h(c["header"])
        body_len = struct.unpack(">H", hdr[2:4])[0]
        # The header alone, and (when small) with a zero body, so accepted headers complete.
        stream_seed("hdr-" + c["name"], hdr)
        if c["verdict"] == "accept" and body_len <= 600:
            stream_seed("whole-" + c["name"], hdr + bytes(body_len), (3, 1))
    for a in FR["alert_bodies"]:
        stream_seed("alert-" + a["name"], frame(3, h(a["body"])), (2,))
    session = b"".join(h(r["frame"]) for r in C2S["records"][:5])
    stream_seed("c2s-session", session)
    stream_seed("c2s-session-cut", session, (1, 3, 67, 1, 100, 0, 5))
    basic = HS["cases"][0]
    stream_seed("hello-then-records", h(basic["client_hello"]) + session[:200], (4, 300))
    stream_seed("server-hello-then-records",
                h(basic["server_hello"]) + b"".join(h(r["frame"]) for r in S2C["records"]),
                (50, 51))
    stream_seed("largest-record", h(C2S["records"][5]["frame"]), (4, 16000))
    stream_seed("two-headers-one-read", bytes.fromhex("04000040") + bytes(64) + b"\x05\x00\x00\x40")
    stream_seed("empty", b"")
    # PROTOCOL.md 4.8: KEY_REQUEST before the hello, and the server's answer.
    stream_seed("key-request-then-hello", b"\x05\x00\x00\x00" + h(basic["client_hello"]), (2, 3))
    stream_seed("key-request-twice", b"\x05\x00\x00\x00" * 2)
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in",
                          os.path.join(KEYS, "test_rsa2048_public.pem"), "-outform", "DER"],
                         check=True, capture_output=True).stdout
    stream_seed("server-key", frame(6, der), (4, 100))


# --- message: one plaintext ---------------------------------------------------------------


def message_seeds():
    own = [MEMBERSHIP, AUTH_MSG, COMMANDS, HISTORY, MODERATION, ROOMS, FILES]
    for v in MSG["valid"] + [v for o in own for v in o["valid"]]:
        seed("message", "valid-" + v["name"], h(v["bytes"]))
    for v in MSG["invalid"] + [v for o in own for v in o["invalid"]]:
        seed("message", "invalid-" + v["name"], h(v["bytes"]))
    for v in AUTH_CASES["cases"]:
        seed("message", "auth-" + v["name"], h(v["message"]))
    seed("message", "empty", b"")
    seed("message", "escape-everything",
         b"\x83\x00\x20" + b"\\\x1b[1m\x7f\xc2\x85\xe2\x80\xae\xe2\x81\xa6\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf"
         + b"ok\xff\xfe abc")


# --- record: mode u8, seq u64, then by mode -----------------------------------------------


def record_seeds(target):
    for seq_ in (C2S,):
        for r in seq_["records"][:5]:
            seed(target, "open-c2s-%d" % r["seq"], u8(0 if target == "record" else 1)
                 + u64(r["seq"]) + h(r["frame"]))
    for r in REC["single"]:
        seed(target, "open-seq-%d" % r["seq"], u8(0 if target == "record" else 1)
             + u64(r["seq"]) + h(r["frame"]))
    for n in REC["negative"]:
        if len(n["frame"]) // 2 > 2000:
            continue
        seed(target, "negative-" + n["name"], u8(0 if target == "record" else 1)
             + u64(n["seq"]) + h(n["frame"]))
    # Records re-tagged by the harness: the checks after the MAC, with real and broken padding.
    tag_mode = 1 if target == "record" else 2
    for n in REC["negative"]:
        if n["stage"] in ("padding", "plaintext_length") and len(n["frame"]) // 2 <= 2000:
            f = h(n["frame"])
            seed(target, "retag-" + n["name"], u8(tag_mode) + u64(n["seq"]) + f[4:-32])
    r0 = h(C2S["records"][0]["frame"])
    seed(target, "retag-c2s-0", u8(tag_mode) + u64(0) + r0[4:-32])
    if target == "record_differential":
        seed(target, "retag-own-header", u8(3) + u64(0) + r0[:-32])
        seed(target, "retag-short-header", u8(3) + u64(0) + b"\x04\x00\x00\x50" + r0[4:-32])
    # Seal then open.
    plaintexts = [h(r["plaintext"]) for r in C2S["records"][:5]]
    ivs = [h(r["iv"]) for r in C2S["records"][:5]]

    def round_trip(name, seq, items):
        if target == "record":
            body = ivs[0] + u8(len(items) - 1)
            for pt in items:
                body += chunk(pt) + u16(77)
        else:
            body = u8(len(items) - 1)
            for i, pt in enumerate(items):
                body += ivs[i % len(ivs)] + chunk(pt)
        seed(target, "seal-" + name, u8(0 if target == "record_differential" else 2)
             + u64(seq) + body)

    round_trip("vectors", 0, plaintexts[:4])
    round_trip("block-edges", 7, [b"a" * 15, b"b" * 16, b"c" * 17, b"d" * 32])
    round_trip("empty-and-too-long", 1, [b"", b"x" * 16385])
    round_trip("largest", 2, [b"L" * 16384])
    round_trip("last-seq", 2 ** 64 - 1, [b"one", b"two"])


# --- server_handshake: mode u8, server script[96], then by mode ---------------------------


def server_handshake_seeds():
    basic = HS["cases"][0]
    for c in HS["cases"]:
        # Cases that end before the server draws anything use rsa2048-basic's randomness.
        r = c if "server_random" in c else basic
        script = (h(r["server_fallback_wrap_secret"]) + h(r["server_random"])
                  + h(r["server_ephemeral_private"]))
        assert len(script) == 96
        if c["k"] == 256 or c["name"] == "rsa3072-basic":
            seed("server_handshake", "hello-" + c["name"], u8(0) + script + h(c["client_hello"]))
    script = (h(basic["server_fallback_wrap_secret"]) + h(basic["server_random"])
              + h(basic["server_ephemeral_private"]))
    hello = h(basic["client_hello"])
    seed("server_handshake", "hello-short", u8(0) + script + hello[:-1])
    seed("server_handshake", "hello-long", u8(0) + script + hello + b"\x00")
    seed("server_handshake", "hello-all-zero", u8(0) + script + hello[:37] + bytes(32 + 256))
    client = (h(basic["client_random"]) + h(basic["client_ephemeral_private"])
              + h(basic["wrap_secret"]))
    seed("server_handshake", "real-client", u8(1) + script + client + u8(0))
    seed("server_handshake", "real-client-flip-wrapped",
         u8(1) + script + client + u8(1) + u16(200) + u8(1))
    seed("server_handshake", "real-client-flip-version",
         u8(1) + script + client + u8(1) + u16(4) + u8(3))
    seed("server_handshake", "real-client-flip-share",
         u8(1) + script + client + u8(2) + u16(40) + u8(0x80) + u16(2) + u8(1))
    seed("server_handshake", "wrap-32", u8(2) + script + chunk(bytes(range(32))) + u8(1))
    seed("server_handshake", "wrap-31", u8(2) + script + chunk(bytes(range(31))) + u8(1))
    seed("server_handshake", "wrap-33", u8(2) + script + chunk(bytes(range(33))) + u8(1))
    seed("server_handshake", "wrap-0", u8(2) + script + chunk(b"") + u8(1))
    seed("server_handshake", "wrap-190", u8(2) + script + chunk(bytes(190)) + u8(1))
    seed("server_handshake", "wrap-wrong-label",
         u8(2) + script + chunk(bytes(range(32))) + u8(0) + chunk(b"securechat v2 key wrap"))
    seed("server_handshake", "wrap-no-label",
         u8(2) + script + chunk(bytes(range(32))) + u8(0) + chunk(b""))


# --- client_handshake: mode u8, client script[96], then by mode ---------------------------


def client_handshake_seeds():
    basic = HS["cases"][0]
    client = (h(basic["client_random"]) + h(basic["client_ephemeral_private"])
              + h(basic["wrap_secret"]))
    server = h(basic["server_random"]) + h(basic["server_ephemeral_private"])
    for c in HS["cases"]:
        if c.get("server_hello"):
            seed("client_handshake", "raw-" + c["name"], u8(0) + client + chunk(h(c["server_hello"])))
        if c.get("server_reply"):
            seed("client_handshake", "raw-reply-" + c["name"],
                 u8(0) + client + chunk(h(c["server_reply"])))
    for a in FR["alert_bodies"]:
        seed("client_handshake", "raw-alert-" + a["name"], u8(0) + client + chunk(frame(3, h(a["body"]))))
    for c in FR["cases"]:
        if c["state"] == "client_await_server_hello":
            seed("client_handshake", "raw-hdr-" + c["name"], u8(0) + client + chunk(h(c["header"])))
    seed("client_handshake", "raw-record-first", u8(0) + client + chunk(h(S2C["records"][0]["frame"])))
    zero_share = bytearray(h(basic["server_hello"]))
    zero_share[37:69] = bytes(32)  # a low-order share: the shared secret is all zero
    seed("client_handshake", "raw-zero-share", u8(0) + client + chunk(bytes(zero_share)))
    seed("client_handshake", "real", u8(1) + client + server + u8(0))
    seed("client_handshake", "real-cut", u8(1) + client + server + u8(0) + u16(1) + u16(3) + u16(50))
    seed("client_handshake", "real-flip-confirm", u8(1) + client + server + u8(1) + u16(100) + u8(1))
    seed("client_handshake", "real-flip-version", u8(1) + client + server + u8(1) + u16(4) + u8(1))
    seed("client_handshake", "real-flip-type", u8(1) + client + server + u8(1) + u16(0) + u8(1))
    seed("client_handshake", "real-flip-share", u8(1) + client + server + u8(1) + u16(40) + u8(1))
    for code, reason in ((1, "server full"), (2, "unsupported protocol version"),
                         (3, "too many connections from your address"), (9, "\x1b[31mred"),
                         (0, "x" * 300)):
        seed("client_handshake", "alert-%d" % code, u8(2) + client + u8(code) + chunk(reason))


# --- server_engine: options u8, then operations ------------------------------------------


class Ops:
    def __init__(self):
        self.b = b""

    def copy(self):
        other = Ops()
        other.b = self.b
        return other

    def accept(self, addr=0):
        self.b += u8(0) + u8(addr)
        return self

    def raw(self, peer, data):
        self.b += u8(1) + u8(peer) + chunk(data)
        return self

    def hello(self, peer, script=None):
        if script is None:
            script = bytes((0x10 * (peer + 1) + i) & 0xFF for i in range(96))
        self.b += u8(2) + u8(peer) + script
        return self

    def record(self, peer, plaintext):
        self.b += u8(3) + u8(peer) + chunk(plaintext)
        return self

    def join(self, peer, nick):  # nick: index into kNicks
        self.b += u8(4) + u8(peer) + u8(0) + u8(nick)
        return self

    def say(self, peer, text):  # text: index into kTexts, or bytes
        self.b += u8(4) + u8(peer) + u8(1) + self._text(text)
        return self

    def whisper(self, peer, nick, text):
        self.b += u8(4) + u8(peer) + u8(2) + u8(nick) + self._text(text)
        return self

    def who(self, peer):
        self.b += u8(4) + u8(peer) + u8(3)
        return self

    def nick(self, peer, nick):
        self.b += u8(4) + u8(peer) + u8(4) + u8(nick)
        return self

    def ping(self, peer, data):
        self.b += u8(4) + u8(peer) + u8(5) + u8(len(data)) + data
        return self

    def action(self, peer, text):
        self.b += u8(4) + u8(peer) + u8(7) + self._text(text)
        return self

    def history(self, peer, how, after, epoch=0):
        # how % 3: 0 epoch 0, 1 the server's epoch (1), 2 `epoch`; how & 4: `after` is a u64
        self.b += u8(4) + u8(peer) + u8(11) + u8(how)
        if how % 3 == 2:
            self.b += u64(epoch)
        self.b += u64(after) if how & 4 else u8(after)
        return self

    def bye(self, peer):  # the last template, BYE
        self.b += u8(4) + u8(peer) + u8(12)
        return self

    def drain(self, peer, n=0xFFFF):
        self.b += u8(5) + u8(peer) + u16(n)
        return self

    def close(self, peer):
        self.b += u8(6) + u8(peer)
        return self

    def tick(self, ms):
        self.b += u8(7) + u16(ms)
        return self

    def long_tick(self, tens_of_s):
        self.b += u8(8) + u8(tens_of_s)
        return self

    def console(self, text):
        self.b += u8(9) + chunk(text)
        return self

    def reap(self):
        self.b += u8(10)
        return self

    def shutdown(self):
        self.b += u8(11) + u8(0xFF)
        return self

    @staticmethod
    def _text(text):
        if isinstance(text, int):
            return u8(text)
        return u8(0xFF) + chunk(text)


def server_engine_seeds():
    def s(name, options, ops):
        seed("server_engine", name, u8(options) + ops.b)

    # kNicks: alice bob carol server SeRvEr "bad nick" "" x; kTexts: hello "" ESC bidi café \xff
    chat = (Ops().accept(0).accept(1).hello(0).hello(1).join(0, 0).join(1, 1).drain(0).drain(1)
            .say(0, 0).say(1, "caf\u00e9 \u2603".encode()).whisper(0, 1, 0).whisper(1, 2, 0)
            .who(0).nick(1, 2).nick(1, 0).nick(0, 3).ping(0, b"\x00\x01").say(0, 2).say(0, 3)
            .say(0, 5).say(0, 1).drain(0).drain(1).console("hi all").console("\x1b[2J")
            .bye(1).drain(1).reap().who(0).drain(0).close(0).reap())
    s("chat", 0, chat)
    s("chat-no-rate-limit", 8, chat)
    s("chat-small-queue", 1, chat)
    s("join-twice-and-before-join", 0,
      Ops().accept().hello(0).say(0, 0).who(0).join(0, 0).join(0, 1).drain(0))
    s("bad-nicks", 0, Ops().accept().hello(0).join(0, 3).join(0, 4).join(0, 5).join(0, 6)
      .join(0, 7).drain(0))
    s("raw-plaintexts", 0, Ops().accept().hello(0).record(0, b"\x01\x00\x05alice")
      .record(0, b"\x99").record(0, b"\x02\x00\x10short").record(0, b"\x06\x00\x41" + bytes(65))
      .record(0, bytes(16384)).drain(0))
    flood = Ops().accept().hello(0).join(0, 0)
    for _ in range(25):
        flood.say(0, 0)
    s("rate-limit", 0, flood.drain(0))
    full = Ops()
    for i in range(4):
        full.accept(i % 2)
    for i in range(4):
        full.hello(i)
    for i in range(4):
        full.drain(i)
    s("server-full", 0, full)
    s("handshake-budget", 6, Ops().accept(0).accept(0).accept(1).hello(0).hello(1).hello(2)
      .tick(500).tick(600).drain(0).drain(1).drain(2).tick(2000).drain(1).drain(2).join(2, 2))
    s("timeouts", 0, Ops().accept().accept(1).hello(0).join(0, 0).hello(1).long_tick(2)
      .drain(0).long_tick(40).reap().drain(0))
    s("raw-vector-hello", 0, Ops().accept().raw(0, h(HS["cases"][0]["client_hello"])).drain(0)
      .raw(0, h(C2S["records"][0]["frame"])).drain(0))
    s("raw-version-2", 0, Ops().accept().raw(0, h(HS["cases"][8]["client_hello"])).drain(0))
    s("raw-bad-header", 0, Ops().accept().raw(0, b"\x04\x00\x00\x40").reap())
    s("data-before-server-hello", 6, Ops().accept().hello(0).raw(0, b"\x04").tick(10))
    overflow = (Ops().accept().accept(1).hello(0).hello(1).join(0, 0).join(1, 1).drain(0)
                .who(1).who(1).who(1).ping(1, bytes(64)).ping(1, bytes(64)))
    for _ in range(3):
        overflow.say(0, b"a" * 1500)
    s("queue-overflow", 9, overflow.drain(0).drain(1).reap().say(0, 0).drain(0))
    s("console-and-whisper-overflow", 9, Ops().accept().accept(1).hello(0).hello(1).join(0, 0)
      .join(1, 1).drain(0).console("x" * 1500).console("y" * 1500).whisper(0, 1, b"z" * 1500)
      .drain(0).reap())
    s("shutdown", 0, Ops().accept().hello(0).join(0, 0).accept(1).hello(1).shutdown().drain(0)
      .drain(1).reap())
    # History (PROTOCOL.md 6.11): lines said, whispered and from the console, a later joiner
    # that asks, one that resumes, and HISTORY again after JOIN (fatal).
    said = (Ops().accept(0).accept(1).accept(2).hello(0).hello(1).hello(2).history(0, 0, 0)
            .join(0, 0).say(0, 0).action(0, 0).whisper(0, 0, 0).console("hi all").say(0, 4)
            .drain(0))
    s("history", 8, said.copy().history(1, 0, 0).join(1, 1).drain(1).say(1, 0).drain(0)
      .history(2, 1, 2).history(2, 1, 3).join(2, 2).drain(2).history(0, 1, 0).drain(0).reap()
      .drain(1))
    # Limits that forget (options bit 128: three lines, 64 bytes): `missed` counts.
    many = said.copy()
    for i in range(8):
        many.say(0, b"line %d" % i)
    s("history-forgets", 8 | 128, many.history(1, 1, 1).join(1, 1).history(2, 2, 1, 7)
      .join(2, 2).drain(0).drain(1).drain(2))
    s("history-u64", 8 | 128, many.copy().history(1, 5, 2**64 - 1).join(1, 1).drain(1))
    s("history-small-queue", 9, many.copy().history(1, 0, 0).join(1, 1).drain(1).reap())
    # Moderation (PROTOCOL.md 6.12): every valid MODERATE vector before JOIN (ERROR 2) and from
    # a guest (ERROR 14: the fuzzer marks no key `op`), then the console's commands on bob.
    mod = Ops().accept(0).accept(1).hello(0).hello(1)
    for v in MODERATION["valid"]:
        mod.record(0, h(v["bytes"]))
    mod.join(0, 0).join(1, 1).drain(0).drain(1)
    for v in MODERATION["valid"]:
        mod.record(0, h(v["bytes"]))
    for line in ("/mute bob 10m flooding", "/bans", "/unmute bob", "/ban bob 1d go away",
                 "/bans", "/unban bob", "/kick alice be nice"):
        mod.console(line).drain(0).drain(1)
    s("moderation", 8, mod.say(1, 0).drain(0).drain(1).reap())
    # Rooms (PROTOCOL.md 6.13): every valid client room vector before JOIN (ERROR 2), then from
    # two members, then past the fuzzer's small limits (two rooms, two a client, two members).
    room_msgs = [h(v["bytes"]) for v in ROOMS["valid"] if v["direction"] == "c2s"]
    rooms = Ops().accept(0).accept(1).accept(2).hello(0).hello(1).hello(2)
    for m in room_msgs:
        rooms.record(0, m)
    rooms.join(0, 0).join(1, 1).join(2, 2).drain(0).drain(1).drain(2)
    for m in room_msgs:
        rooms.record(0, m).record(1, m)
    rooms.drain(0).drain(1).drain(2)
    for peer, name in ((0, "#a"), (0, "#b"), (0, "#c"), (1, "#a"), (2, "#A"), (2, "#c")):
        rooms.record(peer, b"\x33" + chunk(name) + u64(0) + u64(0))
    s("rooms", 8, rooms.drain(0).drain(1).drain(2).bye(0).drain(1).drain(2).reap())
    # File transfer (PROTOCOL.md 6.14): an offer from alice to bob, accepted, streamed in
    # chunks past the fuzzer's small window, done; then offers past its limits, a cancel, a
    # chunk out of order, and an offer left to expire.
    def offer(tag, to, name, size):
        return b"\x11" + u32(tag) + chunk(to) + chunk(name) + u64(size) + chunk(b"h" * 32)

    def file_chunk(i, offset, data):
        return b"\x14" + u32(i) + u64(offset) + chunk(data)

    files = (Ops().accept(0).accept(1).accept(2).hello(0).hello(1).hello(2)
             .join(0, 0).join(1, 1).join(2, 2).drain(0).drain(1).drain(2)
             .record(0, offer(1, "bob", "report.pdf", 40)).drain(0).drain(1)
             .record(1, b"\x12" + u32(1)).drain(0))
    for at in range(0, 40, 8):
        files.record(0, file_chunk(1, at, bytes(range(at, at + 8))))
    files.drain(1).record(1, b"\x15" + u32(1)).drain(0).drain(1)
    for tag in range(2, 6):
        files.record(0, offer(tag, "carol", "a", 4))
    files.record(2, b"\x13" + u32(2) + chunk("no")).record(2, b"\x12" + u32(3))
    files.record(0, file_chunk(3, 1, b"x")).record(0, file_chunk(3, 0, b"late"))
    files.record(1, offer(9, "alice", "../x", 1)).record(1, offer(10, "alice", "b", 49))
    s("files", 8, files.drain(0).drain(1).drain(2).long_tick(1).drain(0).drain(2).reap())

    # File transfer (PROTOCOL.md 6.14): every valid client file vector before JOIN (ERROR 2);
    # then 6.14's worked exchange between alice and bob under the ids a server that numbers
    # from 1 gives (offer, accept, the chunk, done), an offer bob declines, and every valid
    # client file vector from both; then alice leaves.
    file_msgs = [h(v["bytes"]) for v in FILES["valid"] if v["direction"] == "c2s"]
    offer = h(next(v["bytes"] for v in FILES["valid"] if v["name"] == "file-offer"))
    files = Ops().accept(0).accept(1).hello(0).hello(1)
    for m in file_msgs:
        files.record(0, m)
    files.join(0, 0).join(1, 1).drain(0).drain(1)
    files.record(0, offer).drain(0).drain(1).record(1, b"\x12" + u32(1)).drain(0)
    files.record(0, b"\x14" + u32(1) + u64(0) + chunk(b"hello\n")).drain(1)
    files.record(1, b"\x15" + u32(1)).drain(0).drain(1)
    files.record(0, offer).record(1, b"\x13" + u32(2) + chunk("no thanks")).drain(0).drain(1)
    for m in file_msgs:
        files.record(0, m).record(1, m)
    s("files-vectors", 8, files.drain(0).drain(1).bye(0).drain(1).reap())


# --- client_engine: flags u8, client script[96], server[64] if flags&1, then operations ---


def client_engine_seeds():
    client = bytes(range(0x40, 0x40 + 96))
    server = bytes(range(0x90, 0x90 + 64))

    def text(t):
        return u8(0xFF) + chunk(t) if not isinstance(t, int) else u8(t)

    def nick(n):
        return u8(0xFF) + chunk(n) if not isinstance(n, int) else u8(n)

    def welcome(n, motd, online):
        return u8(2) + u8(0) + nick(n) + text(motd) + u16(online)

    def chat(frm, flags, t):
        return u8(2) + u8(1) + nick(frm) + u8(flags) + u64(1700000000000) + text(t)

    def notice(t):
        return u8(2) + u8(2) + text(t)

    def users(more, nicks):
        return u8(2) + u8(3) + u8(more) + u8(len(nicks)) + b"".join(nick(n) for n in nicks)

    def pong(data):
        return u8(2) + u8(4) + u8(len(data)) + data

    def error(code, fatal, t):
        return u8(2) + u8(5) + u8(code) + u8(fatal) + text(t)

    def member_joined(n):
        return u8(2) + u8(6) + nick(n)

    def member_left(n):
        return u8(2) + u8(7) + nick(n)

    def member_renamed(old, new):
        return u8(2) + u8(10) + nick(old) + nick(new)

    def room(r):  # kRooms: #lobby #dev lobby #
        return u8(0xFF) + chunk(r) if not isinstance(r, int) else u8(r)

    def room_line(r, seq, frm, action, history, t):
        return (u8(2) + u8(11) + room(r) + u64(seq) + u64(1700000000000 + seq % 1000) + nick(frm)
                + u8(action) + u8(history) + text(t))

    def history_end(r, epoch, last_seq, missed):
        return u8(2) + u8(12) + room(r) + u64(epoch) + u64(last_seq) + u64(missed)

    def line(t):
        return u8(3) + chunk(t)

    def record(pt):
        return u8(1) + chunk(pt)

    def raw(b):
        return u8(0) + chunk(b)

    eof, tick, closed, check = u8(4), u8(5) + u16(1000), u8(6), u8(7)

    def s(name, flags, ops):
        prefix = u8(flags) + client + (server if flags & 1 else b"")
        seed("client_engine", name, prefix + ops)

    # kNicks: alice bob server "bad nick" ""; kTexts: hi, OSC title, bidi, café, ""
    joined = welcome(0, 0, 2)
    s("session", 1, line("early line") + joined + check + chat(1, 0, 0) + chat(1, 1, 3)
      + chat(2, 0, "\\ back\\slash") + notice(3) + users(1, [0, 1]) + users(0, [2])
      + pong(b"") + line("hello") + line("/msg bob psst") + line("/msg bob  two  spaces")
      + line("/msg bob bad \x1b") + line("/who") + line("/nick carol") + line("//slash")
      + line("/help") + line("/bogus x") + line("/bogus\x1b[2J") + line("/msg") + line("/msg bob")
      + line("/nick a b") + line("/nick") + line("bad \x07") + line("x" * 5000) + line("\r")
      + line("ok\r") + check + error(6, 0, 0) + error(2, 0, 3) + line("/quit") + check + closed)
    # A server message with text a client must refuse ends the session.
    s("chat-bidi-text", 1, joined + chat(1, 0, 2))
    s("chat-empty-text", 1, joined + chat(1, 0, 4))
    s("chat-bad-from", 1, joined + chat(3, 0, 0))
    s("paced", 3, joined + b"".join(line("l%d" % i) for i in range(12)) + tick + tick + tick
      + check + u8(5) + u16(6500) + u8(5) + u16(6500) + check + eof + tick + check + closed)
    s("nick-taken", 1, error(3, 0, "nick taken") + closed)
    s("nick-invalid", 1, error(4, 0, "invalid nick") + closed)
    s("shutting-down", 1, joined + error(9, 1, "server shutting down") + closed)
    s("malformed-welcome", 1, welcome(3, 0, 1))
    s("unknown-kind", 1, joined + record(b"\x87\x00\x00") + record(b"\x10") + notice(0))
    s("bad-records", 1, joined + record(b"\x83\x00\x05hello\x00") + raw(b"\x04\x00\x00\x40"))
    s("raw-records-before", 1, raw(h(S2C["records"][0]["frame"])))
    s("eof-before-join", 1, line("queued") + eof + joined + check)
    s("motd-empty", 1, welcome(1, 4, 0) + chat(0, 0, "\u202e\u2066 \x9b".encode()))
    # MEMBER_*: the nick set and /ignore follow them, our own rename (in the server's
    # spelling) changes our nick, and each is followed by the NOTICE for people.
    s("members", 1, joined + member_joined(1) + notice("bob joined") + member_joined("carol")
      + line("/ignore bob") + member_renamed(1, "robert") + notice("bob is now known as robert")
      + chat("robert", 0, 0) + member_renamed("ALICE", "al") + line("/who") + users(0, [0, 1])
      + member_left("carol") + member_left("nobody") + member_renamed("ghost", "spook")
      + line("hello robert") + check + line("/quit") + check + closed)
    s("members-before-welcome", 1, member_joined(1) + member_left(1) + joined + check)
    # A MEMBER_* with a nick no server may send ends the session.
    s("member-joined-bad-nick", 1, joined + member_joined(3))
    s("member-left-empty-nick", 1, joined + member_left(4))
    s("member-renamed-to-server", 1, joined + member_renamed(1, 2))
    s("users-many", 1, joined + users(1, [0, 1, 2]) + users(1, ["dave"]) + users(0, []))
    # History (PROTOCOL.md 6.11): lines from the history, the end, live lines (an action, the
    # console, our own), another room's, and lines before WELCOME.
    epoch = 0x5EC0C4A7F00D1234
    s("history", 1, joined + room_line(0, 40, 1, 0, 1, 0) + room_line(0, 41, 2, 0, 1, 3)
      + history_end(0, epoch, 41, 29) + room_line(0, 42, 1, 1, 0, 0) + line("hello")
      + room_line(0, 43, 0, 0, 0, "hello") + room_line(1, 7, 1, 0, 0, 0)
      + history_end(1, 1, 7, 0) + chat(1, 1, 0) + room_line(0, 2**64 - 1, 2, 0, 0, 3) + check
      + line("/quit") + check + closed)
    s("history-before-welcome", 1, room_line(0, 1, 1, 0, 1, 0) + history_end(0, epoch, 1, 0)
      + joined + history_end(0, epoch, 0, 0) + check)
    s("history-restarted", 1, joined + history_end(0, epoch, 5, 0) + history_end(0, epoch + 1, 2, 0)
      + room_line(0, 1, 1, 0, 0, 0) + check)
    # A ROOM_LINE or HISTORY_END that breaks a rule ends the session.
    s("room-line-bad-room", 1, joined + room_line(2, 1, 1, 0, 0, 0))
    s("room-line-hash-alone", 1, joined + room_line(3, 1, 1, 0, 0, 0))
    s("room-line-action-2", 1, joined + room_line(0, 1, 1, 2, 0, 0))
    s("room-line-history-2", 1, joined + room_line(0, 1, 1, 0, 2, 0))
    s("room-line-bidi-text", 1, joined + room_line(0, 1, 1, 0, 0, 2))
    s("room-line-bad-from", 1, joined + room_line(0, 1, 3, 0, 0, 0))
    s("history-end-bad-room", 1, joined + history_end("#" + "x" * 32, epoch, 1, 0))
    for c in HS["cases"][:2]:
        s("raw-" + c["name"], 0, raw(h(c["server_hello"])) + closed)
    for a in FR["alert_bodies"]:
        s("raw-alert-" + a["name"], 0, raw(frame(3, h(a["body"]))))
    s("raw-alert-full", 0, raw(frame(3, b"\x01" + chunk("server full"))))
    s("raw-alert-version", 0, raw(frame(3, b"\x02" + chunk("unsupported"))))
    s("raw-alert-9", 0, raw(frame(3, b"\x09" + chunk("\x1b]0;x\x07"))))
    s("closed-in-handshake", 0, closed)


# --- pem: mode u8, then PEM text ------------------------------------------------------------


def pem_seeds():
    def read(name):
        with open(os.path.join(KEYS, name), "rb") as f:
            return f.read()

    pub2048 = read("test_rsa2048_public.pem")
    priv2048 = read("test_rsa2048_private.pem")
    seed("pem", "public-2048", u8(0) + pub2048)
    seed("pem", "public-3072", u8(0) + read("test_rsa3072_public.pem"))
    seed("pem", "private-2048", u8(1) + priv2048)
    seed("pem", "private-3072", u8(1) + read("test_rsa3072_private.pem"))
    seed("pem", "public-as-private", u8(1) + pub2048)
    seed("pem", "private-as-public", u8(0) + priv2048)
    seed("pem", "public-truncated", u8(0) + pub2048[:200])
    seed("pem", "garbage", u8(0) + b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")

    # Keys made with the openssl command: random, so kept once made.
    def openssl(name, mode, args, stdin=None):
        path = os.path.join(CORPUS, "pem", "seed-" + name)
        if os.path.exists(path):
            written[("pem", "seed-" + name)] = os.path.getsize(path)
            return
        out = subprocess.run(["openssl"] + args, input=stdin, check=True,
                             stdout=subprocess.PIPE).stdout
        seed("pem", name, mode + out)

    pas = "pass:" + PEM_PASSPHRASE
    openssl("private-encrypted-pkcs8", u8(3),
            ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pas], priv2048)
    openssl("private-encrypted-pkcs8-given", u8(2) + chunk(PEM_PASSPHRASE),
            ["pkcs8", "-topk8", "-v2", "aes-128-cbc", "-passout", pas], priv2048)
    openssl("private-encrypted-no-passphrase", u8(1),
            ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pas], priv2048)
    openssl("private-encrypted-wrong-passphrase", u8(2) + chunk("wrong"),
            ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", pas], priv2048)
    openssl("private-traditional", u8(1), ["rsa", "-traditional"], priv2048)
    openssl("private-traditional-encrypted", u8(3),
            ["rsa", "-traditional", "-aes128", "-passout", pas], priv2048)
    openssl("public-pkcs1", u8(0), ["rsa", "-RSAPublicKey_out"], priv2048)
    openssl("private-rsa-1024", u8(1), ["genpkey", "-algorithm", "RSA", "-pkeyopt",
                                         "rsa_keygen_bits:1024"])
    openssl("private-ec", u8(1), ["genpkey", "-algorithm", "EC", "-pkeyopt",
                                   "ec_paramgen_curve:P-256"])
    openssl("private-ed25519", u8(1), ["genpkey", "-algorithm", "ED25519"])


def config_files_seeds():
    """config_files: mode u8, then the text (config_files_fuzzer.cc)."""
    key = bytes(range(1, 33))
    own = base64.b64encode(key).decode()
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + key
    ssh = base64.b64encode(blob).decode()
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    seeds = {
        "members": b"\x00" + (
            "# the team\n"
            f"alice securechat-ed25519 {own} op\n"
            "\n"
            f"bob\tssh-ed25519 {ssh}\r\n").encode(),
        "members-bad-line": b"\x00" + f"alice securechat-ed25519 {own} alice@laptop\n".encode(),
        "known-servers": b"\x01" + (
            f"# trusted\nchat.example.org:7000 {fp}\n[::1]:7000 {fp}\n").encode(),
        "key-own": b"\x02" + f"securechat-ed25519 {own}".encode(),
        "key-ssh": b"\x02" + f"ssh-ed25519 {ssh}".encode(),
        "fingerprint": b"\x03" + fp.encode(),
        "host-port": b"\x04" + b"Chat.Example.ORG:7000",
    }
    # Bans files (mode 5), read at 1800000000000 ms with at most 8 entries (kFuzzNowMs,
    # kFuzzMaxBans): entries that end before then are dropped, the others kept.
    now = 1800000000000
    bans = (
        "# securechat bans\n"
        f"ban key {fp} 0 {now - 5000} console alice   spam,  again \n"
        "\n"
        f"mute guests 2001:db8::1 {now + 3600000} {now} bob alice "
        "pas de flood, s'il vous pla\u00eet \u270b\r\n"
        f"ban address 192.0.2.1 18446744073709551615 1 console -\n"
        f"mute key {fp} {now} 1 console carol ended\n")
    full = "".join(f"ban address 192.0.2.{i} 0 1 console -\n" for i in range(1, 9))
    seeds.update({
        "bans": b"\x05" + bans.encode(),
        "bans-full": b"\x05" + full.encode(),
        "bans-too-many": b"\x05" + (full + "ban guests 192.0.2.1 0 1 console -\n").encode(),
        "bans-bad-fingerprint": b"\x05" + f"ban key {fp[:-1]}B 0 1 console -\n".encode(),
        "bans-overflow": b"\x05" + f"ban key {fp} 18446744073709551616 1 console -\n".encode(),
        "bans-same-target": b"\x05" + (full[:full.index("\n") + 1] * 2).encode(),
        "bans-long-line": b"\x05" + f"mute address ::1 0 1 console - {'r' * 1000}\n".encode(),
    })
    for name, data in seeds.items():
        seed("config_files", name, data)


# --- server_key: n u8, n u16 cuts, the server's answer to KEY_REQUEST --------------------


def server_key_seeds():
    def answer(name, stream, cuts=()):
        seed("server_key", name, u8(len(cuts)) + b"".join(u16(c) for c in cuts) + stream)

    for bits in (2048, 3072):
        pem = os.path.join(KEYS, "test_rsa%d_public.pem" % bits)
        der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pem, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        answer("key-%d" % bits, frame(6, der))
        answer("key-%d-cut" % bits, frame(6, der), (1, 3, 100, 0, 7))
        answer("key-%d-trailing" % bits, frame(6, der) + b"\x00")
        answer("key-%d-ber-length" % bits, frame(6, b"\x30\x83\x00" + der[2:]))
        answer("key-%d-short" % bits, frame(6, der[:-1]))
        flipped = bytearray(der)
        flipped[len(der) // 2] ^= 1
        answer("key-%d-flipped-modulus" % bits, frame(6, bytes(flipped)))
    for a in FR["alert_bodies"]:
        answer("alert-" + a["name"], frame(3, h(a["body"])))
    answer("server-hello", h(HS["cases"][0]["server_hello"]))
    answer("empty-key", bytes.fromhex("06000000"))
    answer("longest-key", frame(6, bytes(576)))
    answer("too-long-key", frame(6, bytes(577)))


def ssh_agent_seeds():
    """ssh_agent: mode u8 (0 identities body, 1 sign response body, 2 whole message), then
    the bytes (ssh_agent_fuzzer.cc)."""
    def sshstr(b):
        return struct.pack(">I", len(b)) + b

    ed = sshstr(b"ssh-ed25519") + sshstr(bytes(range(1, 33)))
    rsa = sshstr(b"ssh-rsa") + sshstr(b"\x01\x00\x01") + sshstr(b"\x00" + b"\xc3" * 256)
    ecdsa = sshstr(b"ecdsa-sha2-nistp256") + sshstr(b"nistp256") + sshstr(b"\x04" * 65)
    answer = (u8(12) + struct.pack(">I", 4) + sshstr(rsa) + sshstr(b"rsa@host") +
              sshstr(ed) + sshstr(b"alice@laptop") + sshstr(ecdsa) + sshstr(b"") +
              sshstr(ed) + sshstr(b""))
    only_ed = u8(12) + struct.pack(">I", 1) + sshstr(ed) + sshstr(b"alice@laptop")
    sig = u8(14) + sshstr(sshstr(b"ssh-ed25519") + sshstr(bytes(range(64))))
    seeds = {
        "identities": u8(0) + answer,
        "identities-ed25519": u8(0) + only_ed,
        "identities-empty": u8(0) + u8(12) + struct.pack(">I", 0),
        "identities-failure": u8(0) + u8(5),
        "sign-response": u8(1) + sig,
        "sign-failure": u8(1) + u8(5),
        "message-identities": u8(2) + sshstr(only_ed),
        "message-sign-response": u8(2) + sshstr(sig),
        "message-too-long": u8(2) + struct.pack(">I", 256 * 1024 + 1),
    }
    for name, data in seeds.items():
        seed("ssh_agent", name, data)


def main():
    frame_seeds()
    message_seeds()
    record_seeds("record")
    record_seeds("record_differential")
    server_handshake_seeds()
    client_handshake_seeds()
    server_engine_seeds()
    client_engine_seeds()
    pem_seeds()
    config_files_seeds()
    server_key_seeds()
    ssh_agent_seeds()
    total = sum(written.values())
    print("wrote %d seeds, %d bytes" % (len(written), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
