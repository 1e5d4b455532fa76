#!/usr/bin/env bash
# Configures and builds sluice. Usage: scripts/build.sh [release|debug|asan]
# Build folders: build/release, build/debug, build/asan.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  debug) flags=(-DCMAKE_BUILD_TYPE=Debug) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|debug|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "build/$kind" -G Ninja "${flags[@]}" >/dev/null
cmake --build "build/$kind" -j "$(nproc)"
