#!/usr/bin/env bash
# Configures and builds kizuna. Usage: scripts/build.sh [--sanitize] [--release]
# Build directories: build/ (default), build-asan/ (--sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build
ARGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
for arg in "$@"; do
  case "$arg" in
    --sanitize) BUILD_DIR=build-asan; ARGS=(-DCMAKE_BUILD_TYPE=Debug -DKIZUNA_SANITIZE=ON -DKIZUNA_BENCH=OFF) ;;
    --release) ARGS=(-DCMAKE_BUILD_TYPE=Release) ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
JOBS="${JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja "${ARGS[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "built $BUILD_DIR/src/cli/kizuna"
