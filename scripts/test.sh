#!/usr/bin/env bash
# Sets everything up and runs every test, stopping at the first failure: the
# dev build (warnings as errors) and its CTest suite, the same for the
# ASan+UBSan build, the fuzz targets for FUZZ_SECONDS (60) each, and the .deb
# package test. README.md ("Two commands") says the same; keep them in step.
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
