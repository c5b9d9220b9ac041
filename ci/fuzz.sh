#!/usr/bin/env bash
# ci/fuzz.sh [--time=SECONDS] [--jobs=N] [TARGET...]: builds the fuzz preset (clang, libFuzzer,
# ASan + UBSan) and runs every fuzz target (or the ones named) for a fixed time each, two at a
# time by default. Fails if any target crashes, leaks, times out on an input, or runs out of
# memory; the input that did it is copied to fuzz/regressions/<target>/, where the replay tests
# of every build will run it from then on (commit it with the fix).
#
#   --time=S   seconds per target (default 60, or $FUZZ_SECONDS)
#   --jobs=N   targets run at once (default: the number of CPUs, at most 2)
#
# New inputs go to build/fuzz-work/<target>/ (kept between runs, never committed); the
# committed seeds in fuzz/corpus/<target>/ are only read. To fold new coverage into the
# committed corpus: <target>_fuzzer -merge=1 fuzz/corpus/<target> build/fuzz-work/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
jobs="$(nproc 2>/dev/null || echo 1)"
if [ "$jobs" -gt 2 ]; then jobs=2; fi
targets=()
for arg in "$@"; do
  case "$arg" in
    --time=*) seconds="${arg#--time=}" ;;
    --jobs=*) jobs="${arg#--jobs=}" ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown flag $arg" >&2; exit 1 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(frame message record record_differential server_handshake client_handshake
           server_engine client_engine pem config_files server_key ssh_agent)
fi

ci/install-deps.sh
echo "== fuzz: build"
ci/build.sh fuzz

bin=build/fuzz/fuzz
logs=build/fuzz-logs
mkdir -p "$logs"

# max_len per target: room for the largest record (16452 bytes) where records are fuzzed.
max_len() {
  case "$1" in
    frame|message|record) echo 20000 ;;
    record_differential) echo 40000 ;;
    server_engine|client_engine) echo 16384 ;;
    server_handshake) echo 1024 ;;
    *) echo 8192 ;;
  esac
}

run_one() {
  local t="$1"
  local work="build/fuzz-work/$t" artifacts="build/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts" "fuzz/regressions/$t"
  rm -f "$artifacts"/*
  local dict=()
  if [ -f "fuzz/dict/$t.dict" ]; then dict=(-dict="fuzz/dict/$t.dict"); fi
  local status=0
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$bin/${t}_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" \
      "$work" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$logs/$t.log" 2>&1 || status=$?
  local found
  found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | wc -l)
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    cp "$artifacts"/* "fuzz/regressions/$t/" 2>/dev/null || true
    echo "FAIL $t (exit $status): see $logs/$t.log; input(s) copied to fuzz/regressions/$t/"
    tail -n 40 "$logs/$t.log" | sed "s/^/  $t| /"
    return 1
  fi
  local execs rate cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$logs/$t.log" | tail -n 1)
  printf 'ok   %-20s %8s runs %6s exec/s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$cov"
}

echo "== fuzz: ${#targets[@]} targets, ${seconds} s each, ${jobs} at a time"
failed=0
running=0
for t in "${targets[@]}"; do
  if [ ! -x "$bin/${t}_fuzzer" ]; then
    echo "fuzz.sh: no target $t" >&2
    exit 1
  fi
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  echo "== fuzz: FAILED (inputs are in fuzz/regressions/; the replay tests now run them)"
  exit 1
fi
echo "== fuzz: all targets ran clean"
