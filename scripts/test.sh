#!/usr/bin/env bash
# Sets everything up and runs the whole test suite twice: the normal build
# (warnings as errors) and the ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --tests

jobs=$(nproc)
for preset in dev asan; do
  echo "== $preset build"
  cmake --preset "$preset" -DARCADE_WERROR=ON >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset tests"
  ctest --preset "$preset" -j "$jobs" --timeout 600
done

echo "== fuzzing (${FUZZ_SECONDS:-60} s per target)"
scripts/fuzz.sh

echo "== package: build, install, run, purge"
scripts/test-package.sh
