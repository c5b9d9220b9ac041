"""What every generate.py under tests/vectors/ shares: the field encodings of PROTOCOL.md 6.1,
the case layout of securechat-v1/messages.json (its README explains every field), the checks
against the examples PROTOCOL.md prints, and how a file is written.

Standard library only, and nothing from the C++ code: the vectors are a second reading of the
document, so that the conformance test checks the implementation against it. Each generator puts
this folder on its import path itself, so that it runs from any working directory.
"""

import json
import os
import re
import struct
import sys

# ERROR codes (PROTOCOL.md 6.4).
MALFORMED = 1
INVALID_NICK = 4
NO_SUCH_USER = 5
BAD_TEXT = 7
UNKNOWN_KIND = 8
ROOM_REFUSED = 15

# Bounds of PROTOCOL.md 6.1: a text's bytes, a reason's, and the largest value of each unsigned
# integer field.
MAX_TEXT = 4096
MAX_REASON = 256
U16_MAX = 2**16 - 1
U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1

# The longest nick (32 bytes) and room (`#` and 31 bytes), with every kind of byte of the nick
# alphabet.
NICK_32 = "Az09_.-Az09_.-Az09_.-Az09_.-abcd"
ROOM_32 = "#" + "Az09_.-Az09_.-Az09_.-Az09_.-abc"
assert len(NICK_32) == 32 and len(ROOM_32) == 32


def s(text):
    """A `str`: u16 big-endian length, then the bytes (UTF-8 for text)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack(">H", len(raw)) + raw


def u8(n):
    """A `u8`: one byte."""
    return struct.pack(">B", n)


def u16(n):
    """A `u16`: two bytes, big-endian."""
    return struct.pack(">H", n)


def u32(n):
    """A `u32`: four bytes, big-endian."""
    return struct.pack(">I", n)


def u64(n):
    """A `u64`: eight bytes, big-endian."""
    return struct.pack(">Q", n)


def valid_case(name, kind, kind_name, fields, body, basis="spec"):
    """A valid message: `bytes` (the kind, then `body`) must decode to `fields` and encode back.
    Kinds below 0x80 are a client's (c2s), the others the server's (s2c), as PROTOCOL.md 6.5
    divides them."""
    direction = "c2s" if kind < 0x80 else "s2c"
    return {"name": name, "direction": direction, "kind": kind, "kind_name": kind_name,
            "fields": fields, "bytes": (bytes([kind]) + body).hex(), "basis": basis}


def reject(name, raw):
    """A server message a client must close on."""
    return {"name": name, "direction": "s2c", "bytes": raw.hex(), "verdict": "reject",
            "basis": "spec"}


def ignore(name, raw):
    """A server message of a kind a client does not know: skipped."""
    return {"name": name, "direction": "s2c", "bytes": raw.hex(), "verdict": "ignore",
            "basis": "spec"}


def refused(name, raw, code, fatal, basis="spec"):
    """A client message the server answers with ERROR `code`, closing after it if `fatal`."""
    return {"name": name, "direction": "c2s", "bytes": raw.hex(), "verdict": "reject",
            "basis": basis, "error_code": code, "fatal": fatal}


def write_json(doc, out=None):
    """Writes `doc` to `out` (standard output if None) as every vector file here is laid out:
    one space of indent, UTF-8 text as it is, and a closing line feed."""
    out = sys.stdout if out is None else out
    json.dump(doc, out, indent=1, ensure_ascii=False)
    out.write("\n")


def write_messages(protocol, valid, invalid, out=None):
    """Writes a messages.json of `valid` and `invalid` cases under the title `protocol`, after
    making sure that no two cases share a name (the conformance test names its tests after
    them)."""
    names = [case["name"] for case in valid + invalid]
    assert len(names) == len(set(names)), "case names are unique"
    write_json({"protocol": protocol, "valid": valid, "invalid": invalid}, out)


def protocol_text():
    """PROTOCOL.md, from the root of the repository (two folders above this file)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "PROTOCOL.md")
    with open(path, encoding="utf-8") as f:
        return f.read()


def printed_examples(text, marker):
    """The examples in the first code block after `marker` in `text`, as {name: hex}. Each
    example starts a line with its name (lower-case letters and dashes) and its bytes in hex
    groups; a line of hex groups alone goes on with the bytes; any other line (the example's
    reading) ends them."""
    block = text[text.index(marker):]
    block = block[block.index("```") + 3:]
    block = block[:block.index("```")]
    examples = {}
    name = None
    for line in block.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        if re.fullmatch(r"[a-z][a-z-]*", tokens[0]) and len(tokens) > 1 and all(
                re.fullmatch(r"[0-9a-f]+", t) for t in tokens[1:]):
            name = tokens[0]
            examples[name] = "".join(tokens[1:])
        elif name is not None and all(re.fullmatch(r"[0-9a-f]+", t) for t in tokens):
            examples[name] += "".join(tokens)
        else:
            name = None
    return examples


def check_examples(printed, built, section):
    """Stops the script, naming each difference on standard error, unless the examples
    PROTOCOL.md `section` prints ({name: hex}) are exactly the `built` valid cases: the
    document and the vectors say the same thing, or neither is written."""
    ours = {case["name"]: case["bytes"] for case in built}
    if printed != ours:
        for n in sorted(set(printed) | set(ours)):
            if printed.get(n) != ours.get(n):
                sys.stderr.write("%s: PROTOCOL.md %s, built %s\n"
                                 % (n, printed.get(n), ours.get(n)))
        sys.exit("PROTOCOL.md %s's examples differ from the bytes built here" % section)
