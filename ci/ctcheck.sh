#!/usr/bin/env bash
# ci/ctcheck.sh [PRESET]: the constant-time check. Builds PRESET (default release: the code as
# shipped) and runs fuzz/ctcheck under valgrind memcheck, with the secrets marked undefined, so
# that any branch or memory address computed from a secret is an error. It first runs the
# canary (a deliberately leaky comparison) and requires memcheck to catch it. fuzz/README.md
# says what is judged and what is not.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
ci/install-deps.sh
ci/build.sh "$preset" >/dev/null
prog="build/$preset/fuzz/securechat_ctcheck"
if [ ! -x "$prog" ]; then
  echo "ctcheck: $prog was not built (is valgrind/memcheck.h installed?)" >&2
  exit 1
fi
memcheck=(valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes
          --suppressions=fuzz/ctcheck/ctcheck.supp)

echo "== ctcheck: canary (memcheck must report a secret-dependent branch)"
status=0
"${memcheck[@]}" "$prog" --canary >build/ctcheck-canary.log 2>&1 || status=$?
if [ "$status" -ne 99 ] || ! grep -q "depends on uninitialised value" build/ctcheck-canary.log; then
  cat build/ctcheck-canary.log
  echo "ctcheck: the canary was not caught (exit $status): the check cannot be trusted" >&2
  exit 1
fi

echo "== ctcheck: $prog under valgrind memcheck"
status=0
"${memcheck[@]}" -v "$prog" >build/ctcheck.log 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  grep -v '^--' build/ctcheck.log | head -n 150
  echo "ctcheck: FAILED (exit $status): a secret reached a branch or an address (full log: build/ctcheck.log)" >&2
  exit 1
fi
grep '^ctcheck:' build/ctcheck.log
# Show which declassification points were met (each is named in ctcheck.supp).
grep 'used_suppression' build/ctcheck.log | sed 's/^--[0-9]*-- *used_suppression: */  declassified: /' || true
echo "== ctcheck: no secret-dependent branch or address in the judged code"
