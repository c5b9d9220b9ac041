#!/usr/bin/env bash
# ci/build.sh PRESET: configures and builds one CMake preset (release, asan, ...) with -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j 2
