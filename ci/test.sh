#!/usr/bin/env bash
# ci/test.sh: installs what is missing, then builds and runs the whole test suite twice:
# a release build with warnings as errors, and the same suite under ASan and UBSan. Both
# include the replay of every fuzz corpus and regression. Then the constant-time check runs
# under valgrind, and every fuzz target runs for FUZZ_SECONDS (20 s here; ci/fuzz.sh alone
# defaults to 60), two at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
for preset in ci-release ci-asan; do
  echo "== $preset: build"
  ci/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
done
echo "== constant-time check"
ci/ctcheck.sh ci-release
echo "== fuzz"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" ci/fuzz.sh
