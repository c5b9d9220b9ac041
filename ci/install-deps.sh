#!/usr/bin/env bash
# Installs what securechat needs to build, test, fuzz and benchmark, from Debian packages.
# Idempotent: when everything is present it only checks, in well under a second.
# Packages named as arguments are installed too (ci/bench.sh: openssh-server, for scp's baseline).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  git                       # --version names the commit it was built from (cmake/version_stamp.cmake)
  libssl-dev libabsl-dev libedit-dev libgtest-dev libgmock-dev libbenchmark-dev
  nettle-dev                # HMAC-SHA-256 without allocation (crypto/primitives.h says why)
  googletest                # GoogleTest's sources: the stldebug preset builds them in debug mode
  tmux                      # the interactive client's terminal tests
  openssh-client            # ssh-keygen and ssh-agent: user keys are checked against OpenSSH's
  clang libclang-rt-14-dev  # the fuzz preset: clang 14 and libFuzzer
  llvm-14                   # llvm-profdata-14 and llvm-cov-14 for ci/coverage.sh
  valgrind                  # memcheck and valgrind/memcheck.h for the constant-time check
  python3                   # ci/coverage.sh reads llvm-cov's JSON summary with it
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
