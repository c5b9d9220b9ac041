#!/usr/bin/env bash
# ci/test.sh: installs what is missing, then builds and runs the whole test suite twice:
# a release build with warnings as errors, and the same suite under ASan and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
for preset in ci-release ci-asan; do
  echo "== $preset: build"
  ci/build.sh "$preset"
  echo "== $preset: test"
  ctest --preset "$preset"
done
