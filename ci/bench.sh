#!/usr/bin/env bash
# ci/bench.sh [OUT_DIR]: builds the release preset, then runs every benchmark that
# bench/README.md reports: chat-bench (Google Benchmark) and the chat-loadgen runs against a
# real chat-server on 127.0.0.1. Each run writes JSON to OUT_DIR (default
# build/bench-results/<UTC time>); bench/compare.py OLD_DIR NEW_DIR puts two runs side by side.
# Takes about four minutes after the build (the 1 GiB files run, with its scp, about 45 s). Timings mean little while other work loads the machine: the load
# average is printed before and after, and recorded in every JSON file.
set -euo pipefail
cd "$(dirname "$0")/.."
# openssh-server for the files mode's baseline only (bench/scp_baseline.sh starts a private
# sshd of its own on 127.0.0.1; the system's is never started or used).
ci/install-deps.sh openssh-server
ci/build.sh release
out="${1:-build/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
bin=build/release/bench
{
  date -u
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$out/environment.txt"

echo "== chat-bench"
"$bin/chat-bench" --benchmark_min_time=0.5 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/chat-bench.json" --benchmark_out_format=json

loadgen() {
  local name="$1"
  shift
  echo "== chat-loadgen $name"
  "$bin/chat-loadgen" --json="$out/loadgen-$name.json" "$@" >"$out/loadgen-$name.log"
  tail -n +2 "$out/loadgen-$name.log" | grep -E '"(error|verified|[a-z_0-9]+_(per_second|ms|kib|us)|server_cpu_seconds|loadgen_cpu_seconds|ratio_to_scp|unavailable)"' || true
}
loadgen throughput-1x50 --mode=throughput --senders=1 --receivers=50 --messages=40000 --bytes=200
loadgen throughput-10x10 --mode=throughput --senders=10 --receivers=10 --messages=20000 --bytes=200
loadgen latency-1000-50 --mode=latency --senders=1 --receivers=50 --rate=1000 --seconds=10 --bytes=200
loadgen idle-1000 --mode=idle --clients=1000 --in_flight=16
loadgen handshake-2048 --mode=handshake --connections=4000 --in_flight=16 --key_bits=2048
loadgen rooms-1000x100 --mode=rooms --clients=1000 --rooms=100 --per_client_rate=20 --seconds=5 \
  --bytes=200 --rounds=3
loadgen files-1g --mode=files --file_bytes=1073741824 --chat_rate=20

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/environment.txt"
echo "results in $out"
