#!/usr/bin/env bash
# ci/test.sh: installs what is missing, then builds and runs the whole test suite three times:
# a release build with warnings as errors, the same suite under ASan and UBSan, and again with
# libstdc++'s debug mode (_GLIBCXX_DEBUG), where an iterator used after its container changed
# under it aborts (ASan cannot see that: the stale read is inside the uninstrumented library).
# Each includes the replay of every fuzz corpus and regression. Then the constant-time check
# runs under valgrind, and every fuzz target runs for FUZZ_SECONDS (20 s here; ci/fuzz.sh
# alone defaults to 60), two at a time.
#
# ci/test.sh --quick: only the first of these, the release build and its tests (about 9 minutes
# from scratch on 2 quiet cores, well under one after a small change), for the edit-test loop.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
if [ "${1:-}" = "--quick" ]; then
  ci/build.sh ci-release
  exec ctest --preset ci-release
fi
for preset in ci-release ci-asan ci-stldebug; do
  echo "== $preset: build"
  ci/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
done
echo "== constant-time check"
ci/ctcheck.sh ci-release
echo "== fuzz"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" ci/fuzz.sh
