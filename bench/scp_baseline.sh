#!/usr/bin/env bash
# bench/scp_baseline.sh BYTES: times scp of a file of BYTES random bytes to 127.0.0.1, through a
# private sshd started for it, the baseline of chat-loadgen --mode=files.
#
# Everything lives in a temporary directory removed on exit: a throwaway host key, a throwaway
# user key, an authorized_keys holding only that key, the sshd configuration and both copies of
# the file. The system's sshd configuration and keys are never read or used, and the sshd
# started here listens on 127.0.0.1 only, on a free high port, and is stopped on exit.
#
# Prints one line on stdout: "seconds=S" (the scp command alone, from its start to its exit,
# session set-up included), or "unavailable: WHY" when there is no sshd or scp to run (exit 0:
# a missing baseline is not a failure of the run). Anything that goes wrong once sshd is there
# exits 1, with sshd's log on stderr.
set -euo pipefail

bytes="${1:?usage: scp_baseline.sh BYTES}"
sshd=/usr/sbin/sshd
for tool in "$sshd" scp ssh-keygen; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "unavailable: no $tool (Debian: apt-get install openssh-server openssh-client)"
    exit 0
  fi
done

dir="$(mktemp -d /tmp/scp-baseline.XXXXXX)"
sshd_pid=""
cleanup() {
  if [ -n "$sshd_pid" ]; then
    kill "$sshd_pid" 2>/dev/null || true
    wait "$sshd_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# sshd run by root insists on its privilege separation directory, which its service would make
# at boot; an empty one is made if it is missing (nothing else of the system is touched).
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
  mkdir -m 0755 /run/sshd
fi

ssh-keygen -q -t ed25519 -N '' -C scp-baseline-host -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -C scp-baseline-user -f "$dir/user_key"
cp "$dir/user_key.pub" "$dir/authorized_keys"
head -c "$bytes" /dev/urandom >"$dir/file"
mkdir "$dir/to"

# A free port: asked of the kernel when python3 is there, else a random high one (sshd's own
# "Bind ... failed" then sends us to the next try).
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
EOF
  : >"$dir/sshd.log"
  "$sshd" -D -e -f "$dir/sshd_config" 2>>"$dir/sshd.log" &
  sshd_pid=$!
  # Wait until it listens (or gives up).
  for _ in $(seq 1 100); do
    if grep -q "Server listening" "$dir/sshd.log" || ! kill -0 "$sshd_pid" 2>/dev/null; then
      break
    fi
    sleep 0.05
  done
  if grep -q "Server listening" "$dir/sshd.log"; then
    break
  fi
  kill "$sshd_pid" 2>/dev/null || true
  wait "$sshd_pid" 2>/dev/null || true
  sshd_pid=""
done
if [ -z "$sshd_pid" ]; then
  echo "scp_baseline: sshd did not start:" >&2
  cat "$dir/sshd.log" >&2
  exit 1
fi

start=$(date +%s%N)
if ! scp -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
  -o LogLevel=ERROR -i "$dir/user_key" -P "$port" "$dir/file" "$(id -un)@127.0.0.1:$dir/to/file"; then
  echo "scp_baseline: scp failed; sshd's log:" >&2
  cat "$dir/sshd.log" >&2
  exit 1
fi
end=$(date +%s%N)
copied=$(stat -c %s "$dir/to/file")
if [ "$copied" != "$bytes" ]; then
  echo "scp_baseline: scp copied $copied bytes of $bytes" >&2
  exit 1
fi
echo "seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')"
