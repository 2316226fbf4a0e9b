#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the whole test suite:
# installs the dependencies, builds, runs every test (unit, store, HTTP,
# end-to-end with real `kizuna serve` processes).
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --browser
if [ ! -d ../shared/data ]; then
  echo "test.sh: ../shared/data (the shared test data) is missing beside the checkout" >&2
  exit 1
fi
BUILD_DIR=build
build_start=$SECONDS
if [ "${1:-}" = "--sanitize" ]; then
  BUILD_DIR=build-asan
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  scripts/build.sh --sanitize
else
  scripts/build.sh
fi
echo "test.sh: built $BUILD_DIR in $((SECONDS - build_start)) s"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
