#!/usr/bin/env bash
# ci/start.sh [chat-server flags...]: installs what is missing, builds the release programs,
# creates the server keys in keys/ if there are none, and starts the server in the
# foreground. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
ci/build.sh release chat-keygen chat-server chat-client
bin=build/release/src
if [ ! -f keys/server_private.pem ]; then
  # chat-keygen refuses a folder that others may write to (a umask of 002 makes the checkout's
  # keys/ group-writable): it is about to hold the server's private key.
  chmod 700 keys
  "$bin/chat-keygen" --out_dir=keys
fi
echo "The programs are in $bin/."
exec "$bin/chat-server" --key=keys/server_private.pem "$@"
