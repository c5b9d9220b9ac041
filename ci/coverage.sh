#!/usr/bin/env bash
# ci/coverage.sh: clang source-based coverage of the core library over the fuzz corpora.
# Builds the coverage preset (the fuzz targets as plain replay programs, compiled with
# -fprofile-instr-generate -fcoverage-mapping), replays fuzz/corpus/<target>/ and
# fuzz/regressions/<target>/ through each, and prints llvm-cov's line and branch report for
# src/securechat/{wire,crypto,engine,client}. Fails unless the frame and message decoders
# (wire/frame.cc, wire/message.cc) and the handshake (crypto/handshake.cc) reach 95% of lines.
# An HTML report goes to build/coverage/html/.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
echo "== coverage: build"
ci/build.sh coverage >/dev/null

targets=(frame message record record_differential server_handshake client_handshake
         server_engine client_engine pem config_files server_key ssh_agent)
out=build/coverage/profiles
rm -rf "$out"
mkdir -p "$out"
objects=()
for t in "${targets[@]}"; do
  LLVM_PROFILE_FILE="$out/$t.profraw" "build/coverage/fuzz/${t}_replay" \
    "fuzz/regressions/$t" "fuzz/corpus/$t" | sed "s/^/  $t: /"
  if [ ${#objects[@]} -eq 0 ]; then
    objects=("build/coverage/fuzz/${t}_replay")
  else
    objects+=(-object "build/coverage/fuzz/${t}_replay")
  fi
done
llvm-profdata-14 merge -sparse "$out"/*.profraw -o "$out/all.profdata"

sources=(src/securechat/wire src/securechat/crypto src/securechat/engine src/securechat/client)
# llvm-cov warns about functions that differ between the programs (each has its own
# LLVMFuzzerTestOneInput, and header code is instantiated differently in each); the library is
# compiled once and linked into all of them, so its counts are exact. Keep the warning quiet.
cov() { llvm-cov-14 "$@" 2> >(grep -v "functions have mismatched data" >&2); }
echo "== coverage: core library (src/securechat/{wire,crypto,engine,client})"
cov report -instr-profile="$out/all.profdata" "${objects[@]}" "${sources[@]}" |
  sed "s|$(pwd)/||"
cov show -format=html -output-dir=build/coverage/html -instr-profile="$out/all.profdata" \
  "${objects[@]}" "${sources[@]}" >/dev/null

# The gate: line coverage of the frame and message decoders (whole files) and of the
# handshake's parsing and checking (ParseClientHello, ServerHandshake, ClientHandshake::Finish
# and UnwrapSecret together; the rest of handshake.cc is the client's Start and the unwrap
# timing measurement, which no decoder reaches).
cov export -summary-only -instr-profile="$out/all.profdata" "${objects[@]}" \
  "${sources[@]}" >"$out/summary.json"
cov report -show-functions -instr-profile="$out/all.profdata" "${objects[@]}" \
  src/securechat/crypto/handshake.cc >"$out/handshake-functions.txt"
python3 - "$out/summary.json" "$out/handshake-functions.txt" <<'PY'
import json, re, sys
files = json.load(open(sys.argv[1]))["data"][0]["files"]
bad = []
for f in files:
    for g in ("wire/frame.cc", "wire/message.cc", "crypto/handshake.cc"):
        if f["filename"].endswith(g):
            lines = f["summary"]["lines"]
            branches = f["summary"]["branches"]
            print("  %-40s lines %6.2f%% (%d/%d)  branches %6.2f%%" % (
                g, lines["percent"], lines["covered"], lines["count"], branches["percent"]))
            if g != "crypto/handshake.cc" and lines["percent"] < 95.0:
                bad.append(g)
parsing = ("16ParseClientHello", "15ServerHandshakeERK", "15ClientHandshake6Finish",
           "12UnwrapSecret")
total = missed = 0
for row in open(sys.argv[2]):
    cols = row.split()
    if len(cols) >= 7 and any(p in cols[0] for p in parsing):
        total += int(cols[4])
        missed += int(cols[5])
percent = 100.0 * (total - missed) / total if total else 0.0
print("  %-40s lines %6.2f%% (%d/%d)" % ("handshake parsing (4 functions)", percent,
                                          total - missed, total))
if percent < 95.0:
    bad.append("handshake parsing")
if bad:
    print("coverage: below 95%% of lines: %s" % ", ".join(bad))
    sys.exit(1)
print("== coverage: the decoders and the handshake parsing reach 95% of lines")
PY
