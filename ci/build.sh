#!/usr/bin/env bash
# ci/build.sh PRESET [TARGET...]: configures and builds one CMake preset (release, asan, ...)
# with -j2: every target, or only the ones named.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" -j 2 --target "$@"
else
  cmake --build --preset "$preset" -j 2
fi
