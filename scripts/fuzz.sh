#!/usr/bin/env bash
# Short fuzzing, as CI runs it: builds every libFuzzer target with clang in
# build-fuzz/ and runs each for a fixed time on a copy of its seed corpus (in
# a temporary directory: nothing is written into the checkout). A crash, a
# sanitizer report (ASan, UBSan, leaks), a timeout or running out of memory
# fails that fuzzer; its input and log are kept and their paths printed.
# Runs as many fuzzers at once as there are cores (FUZZ_JOBS), each for its
# full time. Prints one line per fuzzer as it ends, then "fuzz: N passed, M
# failed"; exits 1 when M > 0 (a fuzzer that left no verdict counts as failed).
# Usage: scripts/fuzz.sh [SECONDS_PER_FUZZER]   (default 20; JOBS=n for the build)
# The fuzzers run are those build-fuzz/fuzz/fuzzers.txt lists (fuzz/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_FUZZER="${1:-20}"
case "$SECONDS_PER_FUZZER" in
  '' | *[!0-9]* | 0)
    echo "usage: scripts/fuzz.sh [SECONDS_PER_FUZZER]" >&2
    exit 2
    ;;
esac
INPUT_TIMEOUT=25  # seconds one input may take before it counts as a hang

scripts/install-deps.sh --fuzz
BUILD_DIR=build-fuzz
# CC/CXX matter only when build-fuzz/ is configured the first time.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKIZUNA_FUZZ=ON -DKIZUNA_TESTS=OFF -DKIZUNA_BENCH=OFF >/dev/null
LIST="$BUILD_DIR/fuzz/fuzzers.txt"
mapfile -t TARGETS < <(cut -d' ' -f1 "$LIST")
# Only the fuzzer targets: `all` holds Beast units that do not build instrumented.
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${TARGETS[@]}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kizuna-fuzz.XXXXXX")"
# The compiler's -fsanitize=undefined recovers by default: make UB fatal.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
echo "fuzz: ${#TARGETS[@]} fuzzers, ${SECONDS_PER_FUZZER} s each, in $WORK"

# One fuzzer; its line goes to $dir/result, its verdict to $dir/verdict.
fuzz_one() {
  local name="$1" binary="$2" corpus="$3"
  local dir="$WORK/$name"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ -d "$corpus" ]; then
    cp -R "$corpus/." "$dir/corpus/"
  else
    echo "fuzz: $name: no seed corpus at $corpus, starting empty" >&2
  fi
  local seeds start rc=0 elapsed runs inputs reason
  seeds=$(find "$dir/corpus" -type f | wc -l)
  start=$SECONDS
  (cd "$dir" && "$binary" -max_total_time="$SECONDS_PER_FUZZER" -timeout="$INPUT_TIMEOUT" \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" </dev/null >"$dir/log" 2>&1) || rc=$?
  elapsed=$((SECONDS - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  inputs=$(find "$dir/corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    printf '%-20s passed  %10s runs in %3d s, corpus %d -> %d\n' \
      "$name" "${runs:-?}" "$elapsed" "$seeds" "$inputs" >"$dir/result"
    echo passed >"$dir/verdict"
  else
    reason=$(grep -m 1 -E 'ERROR: |runtime error:|SUMMARY: ' "$dir/log" || true)
    {
      printf '%-20s FAILED  %10s runs in %3d s, exit %d: %s\n' \
        "$name" "${runs:-?}" "$elapsed" "$rc" "${reason:-see the log}"
      for artifact in "$dir"/artifacts/*; do
        [ -f "$artifact" ] || continue
        echo "  input: $artifact (base64: $(head -c 4096 "$artifact" | base64 -w 0))"
      done
      echo "  log: $dir/log"
      tail -n 40 "$dir/log" | sed 's/^/  | /'
    } >"$dir/result"
    echo failed >"$dir/verdict"
  fi
  cat "$dir/result"
}

# As many fuzzers at a time as there are cores (FUZZ_JOBS=n to choose): each
# still gets its full time, on a core of its own.
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}"
running=0
names=()
while read -r name binary corpus; do
  names+=("$name")
  if [ "$running" -ge "$FUZZ_JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$name" "$binary" "$corpus" &
  running=$((running + 1))
done <"$LIST"
wait

passed=0
failed=0
for name in "${names[@]}"; do
  if [ "$(cat "$WORK/$name/verdict" 2>/dev/null)" = passed ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

if [ "$failed" -eq 0 ]; then rm -rf "$WORK"; fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
