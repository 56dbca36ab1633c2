#!/usr/bin/env bash
# Builds the release preset and runs the benchmarks; the markdown report goes
# to stdout and to build/release/bench-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target arcade arcade-ship arcade-bench
build/release/bin/arcade-bench "$@" | tee build/release/bench-results.md
